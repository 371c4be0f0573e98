import { useState } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";
import { ErrorMessage, Loading } from "@/components/Feedback";
import { Pager, usePager } from "@/components/Pager";
import type { JobStatus } from "@/types/api";
import { useJobs } from "../api/jobs";
import { CreateJobModal } from "../components/CreateJobModal";
import { JobsTable } from "../components/JobsTable";

const STATUSES: JobStatus[] = ["IN_PROGRESS", "COMPLETED", "CANCELED"];

/** Seed 004's JobsPage: newest first, status filter, per-status progress, "Create job". */
export function JobsPage() {
  // The status lives in the URL, so the overview can link to the jobs in progress.
  const [params, setParams] = useSearchParams();
  const raw = params.get("status");
  const status: JobStatus | "" = STATUSES.includes(raw as JobStatus) ? (raw as JobStatus) : "";
  const setStatus = (value: JobStatus | "") => setParams(value ? { status: value } : {});
  const [creating, setCreating] = useState(false);
  const pager = usePager();
  const jobs = useJobs(status, pager.token);
  const navigate = useNavigate();
  return (
    <main>
      <div className="row spread">
        <h1>Jobs</h1>
        <button type="button" onClick={() => setCreating(true)}>Create job</button>
      </div>
      <label className="row">
        Status filter
        <select value={status} onChange={(e) => { setStatus(e.target.value as JobStatus | ""); pager.reset(); }}>
          <option value="">all</option>
          {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </label>
      <ErrorMessage error={jobs.error} prefix="Jobs unavailable" />
      {jobs.isPending ? <Loading what="jobs" /> : <JobsTable jobs={jobs.data?.jobs ?? []} label="Jobs" />}
      <Pager pager={pager} nextToken={jobs.data?.next_token} />
      <CreateJobModal open={creating} onClose={() => setCreating(false)}
        onCreated={(job) => navigate(`/jobs/${encodeURIComponent(job.job_id)}`)} />
    </main>
  );
}

export default JobsPage;
