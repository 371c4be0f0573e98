import { Bar, Legend } from "recharts";
import { Link } from "react-router-dom";
import type { CommandOutcome, CommandOutcomes } from "@/types/api";
import { CountChart } from "./CountChart";
import { Stat } from "./Stat";

const OUTCOMES: { key: Exclude<CommandOutcome, "publish_failed">; label: string; colour: string }[] = [
  { key: "delivered", label: "Delivered", colour: "#2f9e55" },
  { key: "missed", label: "Missed", colour: "#d64534" },
  { key: "expired", label: "Expired", colour: "#8a8f99" },
];

export const commandsWith = (outcome: CommandOutcome) => `/commands?outcome=${outcome}`;

const hourLabel = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
const ms = (value: number | null | undefined) => (value == null ? "—" : value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`);

/** Commands that became final in the last 24 h by outcome, per hour, and how fast devices ACKed. */
export function CommandsPanel({ commands }: { commands: CommandOutcomes }) {
  const hourly = commands.hourly.map((h) => ({ ...h, label: hourLabel(h.hour) }));
  const latency = commands.ack_latency;
  const histogram = latency.histogram.map((b, i, all) => ({
    label: b.le_ms == null ? `> ${ms(all[i - 1]?.le_ms)}` : `≤ ${ms(b.le_ms)}`, count: b.count,
  }));
  return (
    <section className="panel" aria-labelledby="commands-overview-title">
      <h2 id="commands-overview-title">Commands, last {commands.window_hours} h</h2>
      <div className="stats">
        {OUTCOMES.map((o) => (
          <Stat key={o.key} label={o.label} value={commands.outcomes[o.key] ?? 0} to={commandsWith(o.key)}
            tone={o.key === "delivered" ? "good" : (commands.outcomes[o.key] ?? 0) > 0 ? "bad" : undefined}
            atLeast={commands.truncated} />
        ))}
        <Stat label="Publish failed" value={commands.outcomes.publish_failed ?? 0} to={commandsWith("publish_failed")}
          tone={(commands.outcomes.publish_failed ?? 0) > 0 ? "bad" : undefined} atLeast={commands.truncated} />
      </div>
      <CountChart data={hourly} height={200} everyTick={false}>
        <Legend />
        {OUTCOMES.map((o) => (
          <Bar key={o.key} dataKey={o.key} name={o.label} stackId="outcome" fill={o.colour} isAnimationActive={false} />
        ))}
      </CountChart>
      <h3>ACK latency (first publish to ACK)</h3>
      <dl className="facts" aria-label="ACK latency">
        <dt>ACKs</dt><dd><Link to={commandsWith("delivered")} data-testid="latency-count">{latency.count}</Link></dd>
        <dt>median</dt><dd data-testid="latency-p50">{ms(latency.p50_ms)}</dd>
        <dt>95th percentile</dt><dd data-testid="latency-p95">{ms(latency.p95_ms)}</dd>
        <dt>slowest</dt><dd data-testid="latency-max">{ms(latency.max_ms)}</dd>
      </dl>
      <CountChart data={histogram} height={160}>
        <Bar dataKey="count" name="ACKs" fill="#2456c7" isAnimationActive={false} />
      </CountChart>
    </section>
  );
}
