import { ErrorMessage, Loading } from "@/components/Feedback";
import { formatTime } from "@/lib/format";
import { useOverview } from "../api/overview";
import { CommandsPanel } from "../components/CommandsPanel";
import { JobsPanel } from "../components/JobsPanel";
import { PresencePanel } from "../components/PresencePanel";
import { TwinsPanel } from "../components/TwinsPanel";

/** The console's home: the fleet at a glance, every number a link to the list behind it. */
export function OverviewPage() {
  const overview = useOverview();
  const data = overview.data;
  return (
    <main>
      <div className="row spread">
        <h1>Overview</h1>
        {data && <span className="muted small">as of {formatTime(data.generated_at)}</span>}
      </div>
      <ErrorMessage error={overview.error} prefix="Overview unavailable" />
      {overview.isPending ? <Loading what="the overview" /> : data && (
        <div className="grid overview">
          <PresencePanel devices={data.devices} />
          <CommandsPanel commands={data.commands} />
          <JobsPanel jobs={data.jobs} />
          <TwinsPanel twins={data.twins} />
        </div>
      )}
    </main>
  );
}

export default OverviewPage;
