import { useParams } from "react-router-dom";
import { ErrorMessage, Loading, StatusBadge } from "@/components/Feedback";
import { Pager, usePager } from "@/components/Pager";
import { formatTime } from "@/lib/format";
import type { CommandStatus } from "@/types/api";
import { useBatch } from "../api/batches";

const STATUSES: CommandStatus[] = ["queued", "delivered", "missed", "expired"];

/** A group or site command's progress: counts per status (live until final) and each device's command. */
export function BatchPage() {
  const { batchId = "" } = useParams();
  const pager = usePager();
  const batch = useBatch(batchId, pager.token);
  if (batch.isPending) return <main><Loading what="batch" /></main>;
  if (!batch.data) return <main><h1>Batch {batchId}</h1><ErrorMessage error={batch.error} /></main>;
  const b = batch.data;
  return (
    <main>
      <h1><code>{b.command_type}</code> to {b.target_type} {b.target_id} <span className="muted small">{b.batch_id}</span></h1>
      <p>
        <StatusBadge status={b.status ?? "sending"} /> {b.targeted ?? 0} member(s): {b.sent ?? 0} sent,{" "}
        {b.skipped ?? 0} skipped (disabled); {b.published} published
      </p>
      <table aria-label="Counts per status">
        <thead><tr>{STATUSES.map((s) => <th key={s} scope="col">{s}</th>)}</tr></thead>
        <tbody><tr>{STATUSES.map((s) => <td key={s} data-status={s}>{b.counts[s] ?? 0}</td>)}</tr></tbody>
      </table>
      <table aria-label="Commands of the batch">
        <thead>
          <tr><th scope="col">Device</th><th scope="col">Status</th><th scope="col">Published</th><th scope="col">Acknowledged</th></tr>
        </thead>
        <tbody>
          {b.commands.length === 0 && <tr><td colSpan={4} className="muted">No commands.</td></tr>}
          {b.commands.map((c) => (
            <tr key={c.command_id} data-device-id={c.device_id}>
              <td>{c.device_id}</td>
              <td><StatusBadge status={c.status} /></td>
              <td>{formatTime(c.published_at)}</td>
              <td>{formatTime(c.acked_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pager={pager} nextToken={b.next_token} />
    </main>
  );
}

export default BatchPage;
