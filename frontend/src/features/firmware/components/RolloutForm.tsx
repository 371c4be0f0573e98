import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { Field } from "@/components/Field";
import { ErrorMessage } from "@/components/Feedback";
import type { CreateJob, FailureType, Group } from "@/types/api";
import { useRollout } from "../api/firmware";

interface Props {
  firmwareId: string;
  groups: Group[];
}

function whole(text: string, min: number, max: number): number | undefined {
  const n = Number(text);
  return text.trim() && Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}

/** Roll the chosen image out to a group: an update_firmware job with a rate and an abort threshold. */
export function RolloutForm({ firmwareId, groups }: Props) {
  const [group, setGroup] = useState("");
  const [rate, setRate] = useState("");
  const [abortPercent, setAbortPercent] = useState("10");
  const [abortMin, setAbortMin] = useState("1");
  const [abortType, setAbortType] = useState<FailureType>("FAILED");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const rollout = useRollout();

  function submit(event: FormEvent) {
    event.preventDefault();
    const found: Record<string, string> = {};
    const body: CreateJob = { document_type: "update_firmware", document_params: { firmware_id: firmwareId },
      target_group_id: group };
    if (!firmwareId) found.firmware = "choose a ready image in the list";
    if (!group) found.group = "choose a group";
    if (rate.trim()) {
      const r = whole(rate, 1, 1000);
      if (r === undefined) found.rate = "a whole number from 1 to 1000";
      else body.rollout = { max_per_minute: r };
    }
    if (abortPercent.trim()) {
      const pct = Number(abortPercent);
      const min = whole(abortMin, 1, 1_000_000);
      if (!(pct > 0 && pct <= 100)) found.abort = "a percentage above 0, at most 100";
      else if (min === undefined) found.abortMin = "a whole number, at least 1";
      else body.abort = [{ failure_type: abortType, min_executed: min, threshold_percentage: pct, action: "CANCEL" }];
    }
    setErrors(found);
    if (!Object.keys(found).length) rollout.mutate(body);
  }

  return (
    <form onSubmit={submit} aria-label="Roll out to group" className="card">
      <h2>Roll out to a group</h2>
      {errors.firmware && <p role="alert" className="field-error">{errors.firmware}</p>}
      <Field label="Group" error={errors.group}>
        {(a11y) => (
          <select {...a11y} value={group} onChange={(e) => setGroup(e.target.value)}>
            <option value="">choose…</option>
            {groups.map((g) => <option key={g.group_id} value={g.group_id}>{g.name} ({g.group_id})</option>)}
          </select>
        )}
      </Field>
      <Field label="Devices per minute" error={errors.rate} hint="empty: all at once">
        {(a11y) => <input {...a11y} inputMode="numeric" value={rate} onChange={(e) => setRate(e.target.value)} />}
      </Field>
      <Field label="Abort when this % failed" error={errors.abort} hint="empty: never abort">
        {(a11y) => <input {...a11y} inputMode="decimal" value={abortPercent} onChange={(e) => setAbortPercent(e.target.value)} />}
      </Field>
      <Field label="Failure counted">
        {(a11y) => (
          <select {...a11y} value={abortType} onChange={(e) => setAbortType(e.target.value as FailureType)}>
            {(["FAILED", "TIMED_OUT", "ALL"] as const).map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        )}
      </Field>
      <Field label="After at least this many executed" error={errors.abortMin}>
        {(a11y) => <input {...a11y} inputMode="numeric" value={abortMin} onChange={(e) => setAbortMin(e.target.value)} />}
      </Field>
      <button type="submit" disabled={rollout.isPending}>Roll out</button>
      <ErrorMessage error={rollout.error} prefix="Rollout refused" />
      {rollout.data && (
        <p role="status">
          Rollout <Link to={`/jobs/${encodeURIComponent(rollout.data.job_id)}`}>{rollout.data.job_id}</Link> started
          for {rollout.data.execution_count} devices.
        </p>
      )}
    </form>
  );
}
