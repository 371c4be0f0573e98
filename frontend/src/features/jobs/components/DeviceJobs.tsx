import { useState } from "react";
import { useNavigate } from "react-router-dom";
import { ErrorMessage, Loading } from "@/components/Feedback";
import { useJobs } from "../api/jobs";
import { CreateJobModal } from "./CreateJobModal";
import { JobsTable } from "./JobsTable";

/** The device page's jobs: recent jobs aimed at this device, and "Create job" preset to it. */
export function DeviceJobs({ deviceId }: { deviceId: string }) {
  const [creating, setCreating] = useState(false);
  const jobs = useJobs("", null, 100);
  const navigate = useNavigate();
  const mine = (jobs.data?.jobs ?? []).filter((j) => j.target_type === "device" && j.target_id === deviceId);
  return (
    <section className="panel" aria-labelledby="device-jobs-title">
      <div className="row spread">
        <h2 id="device-jobs-title">Jobs</h2>
        <button type="button" onClick={() => setCreating(true)}>Create job</button>
      </div>
      <p className="muted small">Recent jobs that target this device; group and fleet jobs are on the Jobs page.</p>
      <ErrorMessage error={jobs.error} />
      {jobs.isPending ? <Loading what="jobs" /> : <JobsTable jobs={mine} label="Jobs of this device" />}
      <CreateJobModal open={creating} deviceId={deviceId} onClose={() => setCreating(false)}
        onCreated={(job) => navigate(`/jobs/${encodeURIComponent(job.job_id)}`)} />
    </section>
  );
}
