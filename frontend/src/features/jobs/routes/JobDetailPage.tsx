import { useParams } from "react-router-dom";
import { ErrorMessage, Loading, StatusBadge } from "@/components/Feedback";
import { Pager, usePager } from "@/components/Pager";
import { formatTime, prettyJson } from "@/lib/format";
import { useCancelJob, useJob } from "../api/jobs";
import { JobProgress } from "../components/JobProgress";
import { targetLabel } from "../components/JobsTable";
import { RolloutFacts } from "../components/RolloutFields";

/** A job: its document, progress, and executions with their status details; cancel. */
export function JobDetailPage() {
  const { jobId = "" } = useParams();
  const pager = usePager();
  const job = useJob(jobId, pager.token);
  const cancel = useCancelJob();
  if (job.isPending) return <main><Loading what="job" /></main>;
  if (!job.data) return <main><h1>Job {jobId}</h1><ErrorMessage error={job.error} /></main>;
  const j = job.data;
  const cancellable = j.status === "IN_PROGRESS";
  return (
    <main>
      <div className="row spread">
        <h1>Job {j.job_id}</h1>
        <span aria-label={`Job status: ${j.status}`} data-testid="job-status"><StatusBadge status={j.status} /></span>
      </div>
      <dl className="facts">
        <dt>Document</dt><dd><code>{j.document_type}</code></dd>
        <dt>Target</dt><dd>{targetLabel(j)}</dd>
        <dt>Created</dt><dd>{formatTime(j.created_at)} {j.created_by ? `by ${j.created_by}` : ""}</dd>
        <dt>Expires</dt><dd>{formatTime(j.expires_at)}</dd>
        {j.completed_at && <><dt>Completed</dt><dd>{formatTime(j.completed_at)}</dd></>}
        {j.canceled_at && <><dt>Canceled</dt><dd>{formatTime(j.canceled_at)}</dd></>}
      </dl>
      <JobProgress job={j} />
      <RolloutFacts job={j} />
      <details>
        <summary>Parameters</summary>
        <pre>{prettyJson(j.document_params)}</pre>
      </details>
      {cancellable && (
        <p>
          <button type="button" className="danger" disabled={cancel.isPending}
            onClick={() => { if (window.confirm(`Cancel job ${j.job_id}? Queued executions are rejected.`)) cancel.mutate(j.job_id); }}>
            Cancel job
          </button>
        </p>
      )}
      <ErrorMessage error={cancel.error} prefix="Not canceled" />
      <h2>Executions</h2>
      <table aria-label="Executions">
        <thead><tr><th scope="col">Device</th><th scope="col">Status</th><th scope="col">Status details</th><th scope="col">Started</th><th scope="col">Updated</th></tr></thead>
        <tbody>
          {j.executions.map((e) => (
            <tr key={e.device_id}>
              <td>{e.device_id}</td>
              <td><StatusBadge status={e.status} />{e.held ? <span className="small"> (held)</span> : null}</td>
              <td><code className="small">{Object.entries(e.status_details ?? {}).map(([k, v]) => `${k}=${v}`).join(", ")}</code></td>
              <td>{formatTime(e.started_at)}</td>
              <td>{formatTime(e.updated_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pager={pager} nextToken={j.next_token} />
    </main>
  );
}

export default JobDetailPage;
