import { useState } from "react";
import { ErrorMessage, Loading, StatusBadge } from "@/components/Feedback";
import { Pager, usePager } from "@/components/Pager";
import { formatTime } from "@/lib/format";
import type { CommandStatus } from "@/types/api";
import { useCommandHistory } from "../api/commands";

const STATUSES: CommandStatus[] = ["queued", "delivered", "missed", "expired"];

/** The device's command history, newest first; rows refresh every second until final. */
export function CommandHistory({ deviceId }: { deviceId: string }) {
  const [status, setStatus] = useState<CommandStatus | "">("");
  const pager = usePager();
  const history = useCommandHistory(deviceId, status, pager.token);

  return (
    <section aria-labelledby="command-history-title">
      <div className="row spread">
        <h3 id="command-history-title">History</h3>
        <label className="row">
          Status filter
          <select value={status} onChange={(e) => { setStatus(e.target.value as CommandStatus | ""); pager.reset(); }}>
            <option value="">all</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
      </div>
      <ErrorMessage error={history.error} prefix="History unavailable" />
      {history.isPending ? <Loading what="command history" /> : (
        <div className="table-scroll">
        <table aria-label="Command history" className="history">
          <thead>
            <tr><th scope="col">Sent</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Acknowledged</th><th scope="col">Details</th></tr>
          </thead>
          <tbody>
            {history.data?.commands.length === 0 && <tr><td colSpan={5} className="muted">No commands{status ? ` with status ${status}` : ""}.</td></tr>}
            {history.data?.commands.map((c) => (
              <tr key={c.command_id} data-command-id={c.command_id}>
                <td>{formatTime(c.created_at)}</td>
                <td><code>{c.command_type}</code></td>
                <td>
                  <StatusBadge status={c.status ?? "queued"} />
                  {/* Under the status rather than a column of its own: the details keep the width. */}
                  <div className="muted small">{c.mqtt_published ? "published" : "not published"}</div>
                </td>
                <td>{formatTime(c.acked_at)}</td>
                <td className="details"><code className="small" tabIndex={c.ack_details ? 0 : undefined}>{c.ack_details ? JSON.stringify(c.ack_details) : ""}</code></td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}
      <Pager pager={pager} nextToken={history.data?.nextToken} />
    </section>
  );
}
