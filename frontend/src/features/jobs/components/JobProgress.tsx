import type { ExecutionStatus, Job } from "@/types/api";

export const EXECUTION_STATUSES: ExecutionStatus[] = ["QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT"];

/** Per-status progress: one segment per execution status, and a summary a screen reader reads. */
export function JobProgress({ job }: { job: Pick<Job, "counts" | "execution_count" | "job_id"> }) {
  const total = Math.max(job.execution_count, 1);
  const final = EXECUTION_STATUSES.filter((s) => s !== "QUEUED" && s !== "IN_PROGRESS")
    .reduce((sum, s) => sum + (job.counts[s] ?? 0), 0);
  const summary = EXECUTION_STATUSES.filter((s) => (job.counts[s] ?? 0) > 0)
    .map((s) => `${s} ${job.counts[s]}`).join(", ") || "no executions";
  return (
    <div className="progress-wrap">
      <div className="progress" role="progressbar" aria-label={`Progress of job ${job.job_id}`}
        aria-valuemin={0} aria-valuemax={job.execution_count} aria-valuenow={final} aria-valuetext={summary}>
        {EXECUTION_STATUSES.map((s) => {
          const n = job.counts[s] ?? 0;
          return n > 0 ? <span key={s} className={`seg seg-${s.toLowerCase()}`} style={{ width: `${(100 * n) / total}%` }} title={`${s}: ${n}`} /> : null;
        })}
      </div>
      <span className="small" data-testid="job-progress-text">{final}/{job.execution_count} done · {summary}</span>
    </div>
  );
}
