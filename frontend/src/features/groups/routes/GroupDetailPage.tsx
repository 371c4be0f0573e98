import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { ErrorMessage, Loading } from "@/components/Feedback";
import { Pager, usePager } from "@/components/Pager";
import { useAddMember, useGroup, useRemoveMember } from "../api/groups";

/** A group's members: add a device by id, remove one. */
export function GroupDetailPage() {
  const { groupId = "" } = useParams();
  return <main><GroupDetail groupId={groupId} /></main>;
}

/** The group and its members, for a page that composes it with other features. */
export function GroupDetail({ groupId }: { groupId: string }) {
  const pager = usePager();
  const group = useGroup(groupId, pager.token);
  const add = useAddMember(groupId);
  const remove = useRemoveMember(groupId);
  const [deviceId, setDeviceId] = useState("");
  if (group.isPending) return <Loading what="group" />;
  if (!group.data) return <><h1>Group {groupId}</h1><ErrorMessage error={group.error} /></>;
  const g = group.data;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (deviceId.trim()) add.mutate(deviceId.trim(), { onSuccess: () => setDeviceId("") });
  }

  return (
    <>
      <h1>{g.name} <span className="muted small">{g.group_id}</span></h1>
      {g.description && <p>{g.description}</p>}
      <p>{g.member_count ?? 0} member(s)</p>
      <form onSubmit={submit} className="row" aria-label="Add member">
        <label htmlFor="member-id">Device id</label>
        <input id="member-id" value={deviceId} onChange={(e) => setDeviceId(e.target.value)} />
        <button type="submit" disabled={add.isPending}>Add device</button>
      </form>
      <ErrorMessage error={add.error ?? remove.error} />
      <table aria-label="Members">
        <thead><tr><th scope="col">Device</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          {g.members.length === 0 && <tr><td colSpan={2} className="muted">No members.</td></tr>}
          {g.members.map((id) => (
            <tr key={id}>
              <td><Link to={`/devices/${encodeURIComponent(id)}`}>{id}</Link></td>
              <td><button type="button" className="secondary" aria-label={`Remove ${id}`} onClick={() => remove.mutate(id)}>Remove</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pager={pager} nextToken={g.next_token} />
    </>
  );
}

export default GroupDetailPage;
