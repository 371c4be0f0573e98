import { CronExpressionParser } from "cron-parser";

/** The next wake times of a cron in a timezone, or why the cron cannot be read. */
export function nextWakes(cron: string, timezone: string, count = 5, from: Date = new Date()):
  { times: Date[]; error: string | null } {
  try {
    const expression = CronExpressionParser.parse(cron, { tz: timezone || "UTC", currentDate: from });
    return { times: Array.from({ length: count }, () => expression.next().toDate()), error: null };
  } catch (e) {
    return { times: [], error: (e as Error).message };
  }
}

function inZone(date: Date, timezone: string): string {
  try {
    return new Intl.DateTimeFormat(undefined, {
      weekday: "short", year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
      timeZone: timezone || "UTC", timeZoneName: "short",
    }).format(date);
  } catch {
    return date.toISOString();
  }
}

/** Preview of the schedule as the devices will run it: in the site's timezone. */
export function WakePreview({ cron, timezone }: { cron: string; timezone: string }) {
  const { times, error } = nextWakes(cron, timezone);
  return (
    <div aria-live="polite" className="preview">
      <strong>Next wake times ({timezone || "UTC"})</strong>
      {error ? <p className="muted">Cannot preview: {error}</p> : (
        <ol aria-label="Next wake times">{times.map((t) => <li key={t.toISOString()}>{inZone(t, timezone)}</li>)}</ol>
      )}
    </div>
  );
}
