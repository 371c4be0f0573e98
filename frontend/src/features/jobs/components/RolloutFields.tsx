import { Field } from "@/components/Field";
import type { CreateJob, FailureType, Job } from "@/types/api";

/** The rollout, abort, timeout and continuous options of a new job, as typed in the form. */
export interface RolloutInput {
  maxPerMinute: string;
  abortType: FailureType;
  abortPercent: string;
  abortMinExecuted: string;
  timeoutMinutes: string;
  continuous: boolean;
}

export const EMPTY_ROLLOUT: RolloutInput = {
  maxPerMinute: "", abortType: "FAILED", abortPercent: "", abortMinExecuted: "10", timeoutMinutes: "", continuous: false,
};

function whole(text: string, min: number, max: number): number | undefined {
  const n = Number(text);
  return text.trim() && Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}

/** Fill `body` from the input; errors go to `found` under the API's field names. */
export function applyRollout(input: RolloutInput, body: CreateJob, found: Record<string, string>): void {
  if (input.maxPerMinute.trim()) {
    const rate = whole(input.maxPerMinute, 1, 1000);
    if (rate === undefined) found["rollout.max_per_minute"] = "a whole number from 1 to 1000";
    else body.rollout = { max_per_minute: rate };
  }
  if (input.abortPercent.trim()) {
    const pct = Number(input.abortPercent);
    const min = whole(input.abortMinExecuted, 1, 1_000_000);
    if (!(pct > 0 && pct <= 100)) found["abort.0.threshold_percentage"] = "a percentage above 0, at most 100";
    else if (min === undefined) found["abort.0.min_executed"] = "a whole number, at least 1";
    else body.abort = [{ failure_type: input.abortType, min_executed: min, threshold_percentage: pct, action: "CANCEL" }];
  }
  if (input.timeoutMinutes.trim()) {
    const minutes = whole(input.timeoutMinutes, 1, 10080);
    if (minutes === undefined) found.in_progress_timeout_minutes = "a whole number of minutes, 1 to 10080";
    else body.in_progress_timeout_minutes = minutes;
  }
  if (input.continuous) body.target_selection = "CONTINUOUS";
}

interface Props {
  value: RolloutInput;
  onChange: (value: RolloutInput) => void;
  fieldError: (name: string) => string | undefined;
  allowContinuous: boolean;
}

/** Rate limit, abort threshold, in-progress timeout and continuous targeting. */
export function RolloutFields({ value, onChange, fieldError, allowContinuous }: Props) {
  const set = (patch: Partial<RolloutInput>) => onChange({ ...value, ...patch });
  return (
    <details>
      <summary>Rollout and safety</summary>
      <Field label="Devices notified per minute" error={fieldError("rollout.max_per_minute")} hint="empty: all at once">
        {(a11y) => <input {...a11y} inputMode="numeric" value={value.maxPerMinute} onChange={(e) => set({ maxPerMinute: e.target.value })} />}
      </Field>
      <Field label="Abort when this % failed" error={fieldError("abort.0.threshold_percentage")} hint="empty: never abort">
        {(a11y) => <input {...a11y} inputMode="decimal" value={value.abortPercent} onChange={(e) => set({ abortPercent: e.target.value })} />}
      </Field>
      <Field label="Failure counted" error={fieldError("abort.0.failure_type")}>
        {(a11y) => (
          <select {...a11y} value={value.abortType} onChange={(e) => set({ abortType: e.target.value as FailureType })}>
            {(["FAILED", "REJECTED", "TIMED_OUT", "ALL"] as const).map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        )}
      </Field>
      <Field label="After at least this many executed" error={fieldError("abort.0.min_executed")}>
        {(a11y) => <input {...a11y} inputMode="numeric" value={value.abortMinExecuted} onChange={(e) => set({ abortMinExecuted: e.target.value })} />}
      </Field>
      <Field label="In-progress timeout (minutes)" error={fieldError("in_progress_timeout_minutes")} hint="empty: no timeout">
        {(a11y) => <input {...a11y} inputMode="numeric" value={value.timeoutMinutes} onChange={(e) => set({ timeoutMinutes: e.target.value })} />}
      </Field>
      {allowContinuous && (
        <label className="row">
          <input type="checkbox" checked={value.continuous} onChange={(e) => set({ continuous: e.target.checked })} />
          Continuous: devices that join later get the job too
        </label>
      )}
    </details>
  );
}

/** The rollout facts of a job: rate, held and released counts, abort criteria and outcome, timeout. */
export function RolloutFacts({ job }: { job: Job }) {
  const p = job.rollout_progress;
  if (!p && !job.abort && !job.in_progress_timeout_minutes && job.target_selection !== "CONTINUOUS" && !job.aborted) return null;
  return (
    <dl className="facts" aria-label="Rollout">
      {p && <>
        <dt>Rollout</dt>
        <dd data-testid="job-rollout">{p.released} released · {p.held} held · {p.rate_per_minute}/min
          {job.rollout?.exponential ? ` (up to ${job.rollout.max_per_minute}/min)` : ""}</dd>
      </>}
      {job.abort && <>
        <dt>Abort when</dt>
        <dd>{job.abort.map((c) => `${c.failure_type} ≥ ${c.threshold_percentage}% after ${c.min_executed} executed`).join("; ")}</dd>
      </>}
      {job.aborted && <><dt>Aborted</dt><dd data-testid="job-aborted">{job.reason}</dd></>}
      {job.in_progress_timeout_minutes && <><dt>In-progress timeout</dt><dd>{job.in_progress_timeout_minutes} min</dd></>}
      {job.target_selection === "CONTINUOUS" && <><dt>Targets</dt><dd>continuous (joining devices included)</dd></>}
    </dl>
  );
}
