import { Bar, BarChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Link } from "react-router-dom";
import type { JobsInProgress } from "@/types/api";
import { Stat } from "./Stat";

const STATUSES = [
  { key: "SUCCEEDED", colour: "#2f9e55" }, { key: "FAILED", colour: "#d64534" }, { key: "REJECTED", colour: "#a05ad0" },
  { key: "TIMED_OUT", colour: "#8a8f99" }, { key: "IN_PROGRESS", colour: "#e0a100" }, { key: "QUEUED", colour: "#b9c2d6" },
];

/** Jobs in progress, each with its executions per status. */
export function JobsPanel({ jobs }: { jobs: JobsInProgress }) {
  // A short label: the document type and the id's tail (the table below has the whole id).
  const rows = jobs.jobs.map((j) => ({ name: `${j.document_type} …${j.job_id.slice(-6)}`, ...j.counts }));
  return (
    <section className="panel" aria-labelledby="jobs-overview-title">
      <h2 id="jobs-overview-title">Jobs in progress</h2>
      <div className="stats">
        <Stat label="In progress" value={jobs.count} to="/jobs?status=IN_PROGRESS" atLeast={jobs.more} />
      </div>
      {rows.length > 0 && (
        <div className="chart" aria-hidden="true">
          <ResponsiveContainer width="100%" height={40 + 28 * rows.length}>
            <BarChart data={rows} layout="vertical" margin={{ top: 4, right: 8, bottom: 0, left: 8 }}>
              <XAxis type="number" allowDecimals={false} tick={{ fontSize: 11 }} />
              <YAxis type="category" dataKey="name" width={130} tick={{ fontSize: 11 }} />
              <Tooltip />
              {STATUSES.map((s) => (
                <Bar key={s.key} dataKey={s.key} stackId="executions" fill={s.colour} isAnimationActive={false} />
              ))}
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
      <table aria-label="Jobs in progress">
        <thead><tr><th scope="col">Job</th><th scope="col">Type</th><th scope="col">Done</th></tr></thead>
        <tbody>
          {jobs.jobs.length === 0 && <tr><td colSpan={3} className="muted">No job is in progress.</td></tr>}
          {jobs.jobs.map((j) => {
            const done = ["SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT"].reduce((n, s) => n + (j.counts[s] ?? 0), 0);
            return (
              <tr key={j.job_id} data-job-id={j.job_id}>
                <td className="wrap"><Link to={`/jobs/${encodeURIComponent(j.job_id)}`}>{j.job_id}</Link></td>
                <td><code>{j.document_type}</code></td>
                <td data-testid="job-done">{done}/{j.execution_count}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
