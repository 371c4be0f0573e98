import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { Dialog } from "@/components/Dialog";
import { ErrorMessage, Loading } from "@/components/Feedback";
import { Pager, usePager } from "@/components/Pager";
import { useCreateSite, useSites } from "../api/sites";
import { SiteForm, siteValues, type SiteValues } from "../components/SiteForm";

const orNull = (value: string) => value.trim() || null;

export function SitesPage() {
  const pager = usePager();
  const sites = useSites(pager.token);
  const create = useCreateSite();
  const [creating, setCreating] = useState(false);
  const navigate = useNavigate();

  function submit(v: SiteValues) {
    create.mutate({
      site_id: orNull(v.site_id), name: v.name.trim(), wake_schedule_cron: v.wake_schedule_cron.trim(),
      timezone: v.timezone.trim() || "UTC", program: orNull(v.program), company: orNull(v.company),
    }, { onSuccess: (site) => navigate(`/sites/${encodeURIComponent(site.site_id)}`) });
  }

  return (
    <main>
      <div className="row spread">
        <h1>Sites</h1>
        <button type="button" onClick={() => { create.reset(); setCreating(true); }}>Create site</button>
      </div>
      <ErrorMessage error={sites.error} prefix="Sites unavailable" />
      {sites.isPending ? <Loading what="sites" /> : (
        <table aria-label="Sites">
          <thead><tr><th scope="col">Site</th><th scope="col">Schedule</th><th scope="col">Timezone</th><th scope="col">Devices</th><th scope="col">Program</th><th scope="col">Company</th></tr></thead>
          <tbody>
            {sites.data?.sites.length === 0 && <tr><td colSpan={6} className="muted">No sites yet.</td></tr>}
            {sites.data?.sites.map((s) => (
              <tr key={s.site_id}>
                <td><Link to={`/sites/${encodeURIComponent(s.site_id)}`}>{s.name}</Link> <span className="muted small">{s.site_id}</span></td>
                <td><code>{s.wake_schedule_cron}</code></td>
                <td>{s.timezone}</td>
                <td>{s.device_count ?? 0}</td>
                <td>{s.program ?? "—"}</td>
                <td>{s.company ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager pager={pager} nextToken={sites.data?.next_token} />
      <Dialog title="Create site" open={creating} onClose={() => setCreating(false)}>
        <SiteForm initial={siteValues()} editing={false} submitLabel="Create" pending={create.isPending}
          error={create.error} onSubmit={submit} onCancel={() => setCreating(false)} />
      </Dialog>
    </main>
  );
}

export default SitesPage;
