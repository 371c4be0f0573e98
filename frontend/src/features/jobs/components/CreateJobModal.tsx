import { useState, type FormEvent } from "react";
import { Dialog } from "@/components/Dialog";
import { Field } from "@/components/Field";
import { ErrorMessage } from "@/components/Feedback";
import { ApiError } from "@/lib/api-client";
import type { CreateJob, Job, TargetType } from "@/types/api";
import { useCreateJob, useGroupChoices } from "../api/jobs";
import { ID_HINT, ID_PATTERN } from "@/lib/ids";
import { EMPTY_ROLLOUT, RolloutFields, applyRollout, type RolloutInput } from "./RolloutFields";

const TOKEN = /^[A-Za-z0-9_.:-]{1,64}$/;
function newClientToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}


interface Props {
  open: boolean;
  onClose: () => void;
  onCreated?: (job: Job) => void;
  /** Preselect one device (the device page's "Create job"). */
  deviceId?: string;
}

/** Seed 004's CreateJobModal: target a device, a group or the whole fleet; document and expiry. */
export function CreateJobModal({ open, onClose, onCreated, deviceId }: Props) {
  return (
    <Dialog title="Create job" open={open} onClose={onClose}>
      <CreateJobForm onClose={onClose} onCreated={onCreated} deviceId={deviceId} />
    </Dialog>
  );
}

function CreateJobForm({ onClose, onCreated, deviceId }: Omit<Props, "open">) {
  const [target, setTarget] = useState<TargetType>(deviceId ? "device" : "group");
  const [device, setDevice] = useState(deviceId ?? "");
  const [group, setGroup] = useState("");
  const [docType, setDocType] = useState("update_config");
  const [params, setParams] = useState('{"config": {"interval_s": 60}}');
  const [hours, setHours] = useState("24");
  const [rollout, setRollout] = useState<RolloutInput>(EMPTY_ROLLOUT);
  const [errors, setErrors] = useState<Record<string, string>>({});
  // One client token per dialog: a double submit (or a retry after a timeout) makes one job.
  const [clientToken] = useState(newClientToken);
  const groups = useGroupChoices();
  const create = useCreateJob();
  const serverField = create.error instanceof ApiError ? create.error.field : undefined;

  function submit(event: FormEvent) {
    event.preventDefault();
    const found: Record<string, string> = {};
    const body: CreateJob = { document_type: docType.trim(), client_token: clientToken };
    if (!TOKEN.test(body.document_type)) found.document_type = "1–64 letters, digits or _ . : -";
    try {
      const parsed: unknown = JSON.parse(params || "{}");
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) found.document_params = "must be a JSON object";
      else body.document_params = parsed as Record<string, unknown>;
    } catch {
      found.document_params = "is not valid JSON";
    }
    if (target === "device") {
      if (!ID_PATTERN.test(device.trim())) found.target_device_id = device.trim() ? ID_HINT : "a device id is required";
      body.target_device_id = device.trim();
    } else if (target === "group") {
      if (!ID_PATTERN.test(group)) found.target_group_id = "choose a group";
      body.target_group_id = group;
    } else {
      body.target_all = true;
    }
    const h = Number(hours);
    if (hours.trim() && (!Number.isInteger(h) || h < 1)) found.expires_in_hours = "a whole number of hours, at least 1";
    else if (hours.trim()) body.expires_in_hours = h;
    applyRollout({ ...rollout, continuous: rollout.continuous && target !== "device" }, body, found);
    setErrors(found);
    if (Object.keys(found).length) return;
    create.mutate(body, { onSuccess: (job) => { onCreated?.(job); onClose(); } });
  }

  const fieldError = (name: string) => errors[name] ?? (serverField === name ? create.error?.message : undefined);

  return (
    <form onSubmit={submit} className="stack" noValidate aria-label="New job">
      <fieldset>
        <legend>Target</legend>
        {(["device", "group", "all"] as const).map((t) => (
          <label key={t} className="row">
            <input type="radio" name="target" value={t} checked={target === t} onChange={() => setTarget(t)} />
            {t === "device" ? "One device" : t === "group" ? "A group" : "All devices"}
          </label>
        ))}
      </fieldset>
      {target === "device" && (
        <Field label="Device id" error={fieldError("target_device_id")}>
          {(a11y) => <input {...a11y} value={device} onChange={(e) => setDevice(e.target.value)} />}
        </Field>
      )}
      {target === "group" && (
        <Field label="Group" error={fieldError("target_group_id")}>
          {(a11y) => (
            <select {...a11y} value={group} onChange={(e) => setGroup(e.target.value)}>
              <option value="">Choose a group…</option>
              {groups.data?.groups.map((g) => (
                <option key={g.group_id} value={g.group_id}>{g.name} ({g.group_id}, {g.member_count ?? 0} devices)</option>
              ))}
            </select>
          )}
        </Field>
      )}
      <Field label="Document type" error={fieldError("document_type")}>
        {(a11y) => <input {...a11y} value={docType} onChange={(e) => setDocType(e.target.value)} />}
      </Field>
      <Field label="Document parameters (JSON)" error={fieldError("document_params")} hint='demo devices fail a job whose parameters hold "fail": true'>
        {(a11y) => <textarea {...a11y} rows={4} value={params} spellCheck={false} onChange={(e) => setParams(e.target.value)} />}
      </Field>
      <Field label="Expires in hours" error={fieldError("expires_in_hours")}>
        {(a11y) => <input {...a11y} inputMode="numeric" value={hours} onChange={(e) => setHours(e.target.value)} />}
      </Field>
      <RolloutFields value={rollout} onChange={setRollout} fieldError={fieldError} allowContinuous={target !== "device"} />
      {create.error && !fieldError(serverField ?? "") && <ErrorMessage error={create.error} prefix="Not created" />}
      <div className="row">
        <button type="submit" disabled={create.isPending}>Create</button>
        <button type="button" className="secondary" onClick={onClose}>Cancel</button>
      </div>
    </form>
  );
}
