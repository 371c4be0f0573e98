import { Link, useSearchParams } from "react-router-dom";
import { ErrorMessage, Loading, StatusBadge } from "@/components/Feedback";
import { Pager, usePager } from "@/components/Pager";
import { formatTime } from "@/lib/format";
import type { CommandOutcome } from "@/types/api";
import { useSettledCommands } from "../api/settled";

const OUTCOMES: CommandOutcome[] = ["delivered", "missed", "expired", "publish_failed"];
const isOutcome = (value: string | null): value is CommandOutcome => OUTCOMES.includes(value as CommandOutcome);

/** Every device's commands that became final in the last 24 h: the list behind the overview's numbers. */
export function CommandsPage() {
  const [params, setParams] = useSearchParams();
  const raw = params.get("outcome");
  const outcome = isOutcome(raw) ? raw : "";
  const pager = usePager();
  const commands = useSettledCommands(outcome, 24, pager.token);
  const rows = commands.data?.commands ?? [];
  return (
    <main>
      <h1>Commands</h1>
      <p className="muted">Commands of every device that became final in the last 24 hours, newest first.</p>
      <label className="row filters">
        Outcome
        <select value={outcome} onChange={(e) => {
          setParams(e.target.value ? { outcome: e.target.value } : {});
          pager.reset();
        }}>
          <option value="">all</option>
          {OUTCOMES.map((o) => <option key={o} value={o}>{o.replace("_", " ")}</option>)}
        </select>
      </label>
      <ErrorMessage error={commands.error} prefix="Commands unavailable" />
      {commands.isPending ? <Loading what="commands" /> : (
        <table aria-label="Settled commands">
          <thead>
            <tr><th scope="col">Final at</th><th scope="col">Device</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Published</th><th scope="col">ACK latency</th></tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr><td colSpan={6} className="muted">
                No commands{outcome ? ` ${outcome.replace("_", " ")}` : ""} on this page.
                {commands.data?.next_token ? " Older ones may follow on the next page." : ""}
              </td></tr>
            )}
            {rows.map((c) => (
              <tr key={c.command_id} data-command-id={c.command_id}>
                <td>{formatTime(c.settled_at)}</td>
                <td className="wrap"><Link to={`/devices/${encodeURIComponent(c.device_id)}`}>{c.device_id}</Link></td>
                <td><code>{c.command_type}</code></td>
                <td><StatusBadge status={c.status} /></td>
                <td>{c.published_at ? formatTime(c.published_at) : "never"}</td>
                <td>{c.ack_latency_ms == null ? "—" : `${Math.round(c.ack_latency_ms)} ms`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager pager={pager} nextToken={commands.data?.next_token} />
    </main>
  );
}

export default CommandsPage;
