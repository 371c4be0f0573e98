import { useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { ErrorMessage, Loading, StatusBadge } from "@/components/Feedback";
import { Pager, usePager } from "@/components/Pager";
import { formatAgo, formatTime } from "@/lib/format";
import type { DeviceStatus, PresenceFilter } from "@/types/api";
import { useDevices, useGroupMembership, useSiteChoices, useSyncStatuses, type DeviceFilters } from "../api/devices";
import { DeviceActions } from "../components/DeviceActions";
import { RegisterDeviceDialog } from "../components/RegisterDeviceDialog";

const STATUSES: DeviceStatus[] = ["pending_mapping", "active", "disabled"];
const PRESENCE: [PresenceFilter, string][] = [
  ["online", "online now"], ["offline", "offline"], ["hour", "within the stale window"], ["day", "within 24 h"],
  ["week", "within 7 days"], ["older", "more than 7 days ago"], ["never", "never"],
  ["stale", "not within the stale window"],
];

function readFilters(params: URLSearchParams): DeviceFilters {
  const pick = <T extends string>(key: string, allowed: readonly T[]): T | "" => {
    const value = params.get(key);
    return allowed.includes(value as T) ? (value as T) : "";
  };
  return {
    status: pick("status", STATUSES), site_id: params.get("site_id") ?? "", group_id: params.get("group_id") ?? "",
    presence: pick("presence", PRESENCE.map(([v]) => v)), twin: pick("twin", ["pending"] as const),
  };
}

/** The registry: status, site, groups, last seen and twin sync per device; filters and paging. */
export function DevicesPage() {
  // Filters live in the URL, so the overview's numbers link to the lists behind them.
  const [params, setParams] = useSearchParams();
  const filters = readFilters(params);
  const [registering, setRegistering] = useState(false);
  const pager = usePager();
  const devices = useDevices(filters, pager.token);
  const rows = devices.data?.devices ?? [];
  const sync = useSyncStatuses(rows.map((d) => d.device_id));
  const membership = useGroupMembership();
  const sites = useSiteChoices();
  const setFilter = (key: keyof DeviceFilters, value: string) => {
    // presence and twin each stand alone (the API refuses them with another filter).
    const alone = key === "presence" || key === "twin";
    const next = Object.fromEntries(Object.entries(filters).filter(([k, v]) =>
      v && k !== key && (alone ? false : k !== "presence" && k !== "twin")));
    setParams(value ? { ...next, [key]: value } : next);
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
            {STATUSES.map((s) => <option key={s} value={s}>{s === "pending_mapping" ? "pending_mapping (new, unmapped)" : s}</option>)}
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
        <label className="row">Last seen
          <select value={filters.presence} onChange={(e) => setFilter("presence", e.target.value)}>
            <option value="">any time</option>
            {PRESENCE.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
          </select>
        </label>
        <label className="row">Twin
          <select value={filters.twin} onChange={(e) => setFilter("twin", e.target.value)}>
            <option value="">any</option>
            <option value="pending">pending</option>
          </select>
        </label>
      </form>
      <ErrorMessage error={devices.error} prefix="Devices unavailable" />
      {devices.isPending ? <Loading what="devices" /> : (
        <table aria-label="Devices">
          <thead>
            <tr><th scope="col">Device</th><th scope="col">Status</th><th scope="col">Site</th><th scope="col">Groups</th><th scope="col">Created</th><th scope="col">Last seen</th><th scope="col">Twin</th><th scope="col">Actions</th></tr>
          </thead>
          <tbody>
            {rows.length === 0 && <tr><td colSpan={8} className="muted">No devices match.</td></tr>}
            {rows.map((d) => (
              <tr key={d.device_id} data-device-id={d.device_id}>
                <td><Link to={`/devices/${encodeURIComponent(d.device_id)}`}>{d.device_id}</Link>{d.name ? <div className="muted small">{d.name}</div> : null}</td>
                <td data-testid="device-status"><StatusBadge status={d.status ?? "pending_mapping"} /></td>
                <td>{d.site_id ? <Link to={`/sites/${encodeURIComponent(d.site_id)}`}>{d.site_id}</Link> : "—"}</td>
                <td>{(membership.byDevice[d.device_id] ?? []).join(", ") || "—"}</td>
                <td title={formatTime(d.created_at)} data-testid="device-created">{formatAgo(d.created_at)}</td>
                <td>{formatAgo(d.last_seen_at)}</td>
                <td data-testid="device-sync">{sync[d.device_id] ? <StatusBadge status={sync[d.device_id] ?? ""} /> : "…"}</td>
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
