import type { TwinSummary } from "@/types/api";
import { Stat } from "./Stat";

/** Twins waiting for their device (pending) and twins of devices not heard from lately (stale). */
export function TwinsPanel({ twins }: { twins: TwinSummary }) {
  return (
    <section className="panel" aria-labelledby="twins-overview-title">
      <h2 id="twins-overview-title">Twins</h2>
      <div className="stats">
        <Stat label="Pending" value={twins.pending} to="/devices?twin=pending" tone={twins.pending ? "warn" : undefined}
          atLeast={twins.truncated} />
        <Stat label="Stale" value={twins.stale} to="/devices?presence=stale" tone={twins.stale ? "bad" : undefined}
          atLeast={twins.truncated} />
      </div>
      <p className="muted small">Pending: the device has not yet reported the latest desired version.
        Stale: the device was not heard from within the stale window.</p>
    </section>
  );
}
