import { useState } from "react";
import { ErrorMessage, Loading } from "@/components/Feedback";
import { Pager, usePager } from "@/components/Pager";
import { useFirmwareList, useGroups } from "../api/firmware";
import { FirmwareTable } from "../components/FirmwareTable";
import { RolloutForm } from "../components/RolloutForm";
import { UploadForm } from "../components/UploadForm";
import { VersionChart } from "../components/VersionChart";

/** Firmware: upload with progress, the artifacts with their checksums, a rollout to a group, the versions chart. */
export function FirmwarePage() {
  const pager = usePager();
  const list = useFirmwareList(pager.token);
  const groups = useGroups();
  const [selected, setSelected] = useState("");
  const [scope, setScope] = useState("");
  const groupList = groups.data?.groups ?? [];
  return (
    <main>
      <h1>Firmware</h1>
      <VersionChart groupId={scope} onGroup={setScope} groups={groupList} />
      <div className="grid">
        <UploadForm />
        <RolloutForm firmwareId={selected} groups={groupList} />
      </div>
      <ErrorMessage error={list.error} prefix="Firmware unavailable" />
      {list.isPending ? <Loading what="firmware" /> : (
        <FirmwareTable items={list.data?.firmware ?? []} selected={selected} onSelect={setSelected} />
      )}
      <Pager pager={pager} nextToken={list.data?.next_token} />
    </main>
  );
}

export default FirmwarePage;
