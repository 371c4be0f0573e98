import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { ErrorMessage, Loading, StatusBadge } from "@/components/Feedback";
import { Pager, usePager } from "@/components/Pager";
import { formatTime } from "@/lib/format";
import type { UpdateSite } from "@/types/api";
import { useSite, useSiteDevices, useUpdateSite } from "../api/sites";
import { SiteForm, siteValues, type SiteValues } from "../components/SiteForm";
import { WakePreview } from "../components/WakePreview";

/** A site: its schedule (editable, with a preview), and the devices mapped to it. */
export function SiteDetailPage() {
  const { siteId = "" } = useParams();
  const site = useSite(siteId);
  const pager = usePager();
  const devices = useSiteDevices(siteId, pager.token);
  const update = useUpdateSite(siteId);
  const [editing, setEditing] = useState(false);

  if (site.isPending) return <main><Loading what="site" /></main>;
  if (!site.data) return <main><h1>Site {siteId}</h1><ErrorMessage error={site.error} /></main>;
  const s = site.data;

  function submit(v: SiteValues) {
    const before = siteValues(s);
    const changes: UpdateSite = {};
    for (const key of ["name", "wake_schedule_cron", "timezone"] as const) {
      if (v[key].trim() !== before[key]) changes[key] = v[key].trim();
    }
    for (const key of ["program", "company"] as const) {
      if (v[key].trim() !== before[key]) changes[key] = v[key].trim() || null;
    }
    update.mutate(changes, { onSuccess: () => setEditing(false) });
  }

  return (
    <main>
      <h1>{s.name} <span className="muted small">{s.site_id}</span></h1>
      {editing ? (
        <SiteForm initial={siteValues(s)} editing submitLabel="Save site" pending={update.isPending} error={update.error}
          onSubmit={submit} onCancel={() => { setEditing(false); update.reset(); }} />
      ) : (
        <>
          <dl className="facts">
            <dt>Wake schedule</dt><dd><code>{s.wake_schedule_cron}</code> in {s.timezone}</dd>
            <dt>Program</dt><dd>{s.program ?? "—"}</dd>
            <dt>Company</dt><dd>{s.company ?? "—"}</dd>
            <dt>Devices</dt><dd>{s.device_count ?? 0}</dd>
            <dt>Schedule version</dt><dd>{s.schedule_version ?? 1}{s.schedule_fanout_pending ? " (still being sent to devices)" : ""}</dd>
          </dl>
          <WakePreview cron={s.wake_schedule_cron} timezone={s.timezone} />
          <button type="button" onClick={() => setEditing(true)}>Edit site</button>
          {update.data && (
            <p role="status" className="muted">
              Saved. {update.data.schedule_changed ? `New schedule sent to ${update.data.devices_notified} device(s)${update.data.fanout_complete ? "" : "; the rest follow within a minute"}.` : "The schedule did not change."}
            </p>
          )}
        </>
      )}
      <h2>Devices on this site</h2>
      <ErrorMessage error={devices.error} />
      <table aria-label="Devices on this site">
        <thead><tr><th scope="col">Device</th><th scope="col">Status</th><th scope="col">Next wake</th></tr></thead>
        <tbody>
          {devices.data?.devices.length === 0 && <tr><td colSpan={3} className="muted">No devices mapped.</td></tr>}
          {devices.data?.devices.map((d) => (
            <tr key={d.device_id}>
              <td><Link to={`/devices/${encodeURIComponent(d.device_id)}`}>{d.device_id}</Link></td>
              <td><StatusBadge status={d.status ?? "active"} /></td>
              <td>{formatTime(d.next_wake_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pager={pager} nextToken={devices.data?.next_token} />
    </main>
  );
}

export default SiteDetailPage;
