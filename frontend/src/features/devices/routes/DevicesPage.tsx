import { useState } from "react";
import { Link } from "react-router-dom";
import { ErrorMessage, Loading, StatusBadge } from "@/components/Feedback";
import { Pager, usePager } from "@/components/Pager";
import { formatAgo } from "@/lib/format";
import type { DeviceStatus } from "@/types/api";
import { useDevices, useGroupMembership, useSiteChoices, useSyncStatuses, type DeviceFilters } from "../api/devices";
import { DeviceActions } from "../components/DeviceActions";
import { RegisterDeviceDialog } from "../components/RegisterDeviceDialog";

const STATUSES: DeviceStatus[] = ["pending_mapping", "active", "disabled"];

/** The registry: status, site, groups, last seen and twin sync per device; filters and paging. */
export function DevicesPage() {
  const [filters, setFilters] = useState<DeviceFilters>({ status: "", site_id: "", group_id: "" });
  const [registering, setRegistering] = useState(false);
  const pager = usePager();
  const devices = useDevices(filters, pager.token);
  const rows = devices.data?.devices ?? [];
  const sync = useSyncStatuses(rows.map((d) => d.device_id));
  const membership = useGroupMembership();
  const sites = useSiteChoices();
  const setFilter = (key: keyof DeviceFilters, value: string) => {
    setFilters((old) => ({ ...old, [key]: value }));
    pager.reset();
  };

  return (
    <main>
      <div className="row spread">
        <h1>Devices</h1>
        <button type="button" onClick={() => setRegistering(true)}>Register device</button>
      </div>
      <form className="row filters" aria-label="Device filters" onSubmit={(e) => e.preventDefault()}>
        <label className="row">Status
          <select value={filters.status} onChange={(e) => setFilter("status", e.target.value)}>
            <option value="">all</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label className="row">Site
          <select value={filters.site_id} onChange={(e) => setFilter("site_id", e.target.value)}>
            <option value="">all</option>
            {sites.data?.sites.map((s) => <option key={s.site_id} value={s.site_id}>{s.name}</option>)}
          </select>
        </label>
        <label className="row">Group
          <select value={filters.group_id} onChange={(e) => setFilter("group_id", e.target.value)}>
            <option value="">all</option>
            {membership.groups.map((g) => <option key={g.group_id} value={g.group_id}>{g.name}</option>)}
          </select>
        </label>
      </form>
      <ErrorMessage error={devices.error} prefix="Devices unavailable" />
      {devices.isPending ? <Loading what="devices" /> : (
        <table aria-label="Devices">
          <thead>
            <tr><th scope="col">Device</th><th scope="col">Status</th><th scope="col">Site</th><th scope="col">Groups</th><th scope="col">Last seen</th><th scope="col">Twin</th><th scope="col">Actions</th></tr>
          </thead>
          <tbody>
            {rows.length === 0 && <tr><td colSpan={7} className="muted">No devices match.</td></tr>}
            {rows.map((d) => (
              <tr key={d.device_id} data-device-id={d.device_id}>
                <td><Link to={`/devices/${encodeURIComponent(d.device_id)}`}>{d.device_id}</Link>{d.name ? <div className="muted small">{d.name}</div> : null}</td>
                <td><StatusBadge status={d.status ?? "pending_mapping"} /></td>
                <td>{d.site_id ? <Link to={`/sites/${encodeURIComponent(d.site_id)}`}>{d.site_id}</Link> : "—"}</td>
                <td>{(membership.byDevice[d.device_id] ?? []).join(", ") || "—"}</td>
                <td>{formatAgo(d.last_seen_at)}</td>
                <td>{sync[d.device_id] ? <StatusBadge status={sync[d.device_id] ?? ""} /> : "…"}</td>
                <td><DeviceActions device={d} compact /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager pager={pager} nextToken={devices.data?.next_token} />
      <RegisterDeviceDialog open={registering} onClose={() => setRegistering(false)} />
    </main>
  );
}

export default DevicesPage;
