import { Link } from "react-router-dom";
import { StatusBadge } from "@/components/Feedback";
import { formatTime } from "@/lib/format";
import type { Job } from "@/types/api";
import { JobProgress } from "./JobProgress";

export function targetLabel(job: Job): string {
  if (job.target_type === "all") return "all devices";
  return `${job.target_type} ${job.target_id ?? ""}`;
}

export function JobsTable({ jobs, label }: { jobs: Job[]; label: string }) {
  return (
    <table aria-label={label}>
      <thead>
        <tr><th scope="col">Job</th><th scope="col">Document</th><th scope="col">Target</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">Created</th></tr>
      </thead>
      <tbody>
        {jobs.length === 0 && <tr><td colSpan={6} className="muted">No jobs.</td></tr>}
        {jobs.map((job) => (
          <tr key={job.job_id} data-job-id={job.job_id}>
            <td><Link to={`/jobs/${encodeURIComponent(job.job_id)}`}>{job.job_id}</Link></td>
            <td><code>{job.document_type}</code></td>
            <td>{targetLabel(job)}</td>
            <td><StatusBadge status={job.status} /></td>
            <td><JobProgress job={job} /></td>
            <td>{formatTime(job.created_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
