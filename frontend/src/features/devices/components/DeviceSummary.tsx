import { Link } from "react-router-dom";
import { ErrorMessage, Loading, StatusBadge } from "@/components/Feedback";
import { formatAgo, formatTime } from "@/lib/format";
import { useDevice } from "../api/devices";
import { DeviceActions } from "./DeviceActions";

/** The head of the device page: identity, lifecycle, site and the lifecycle actions. */
export function DeviceSummary({ deviceId }: { deviceId: string }) {
  const device = useDevice(deviceId);
  if (device.isPending) return <Loading what="device" />;
  if (!device.data) return <ErrorMessage error={device.error} />;
  const d = device.data;
  return (
    <section aria-labelledby="device-title">
      <div className="row spread">
        <h1 id="device-title">{d.name ? `${d.name} (${d.device_id})` : d.device_id}</h1>
        <span aria-label={`Device status: ${d.status ?? "pending_mapping"}`} data-testid="device-status">
          <StatusBadge status={d.status ?? "pending_mapping"} />
        </span>
      </div>
      <dl className="facts">
        <dt>Site</dt><dd data-testid="device-site">{d.site_id ? <Link to={`/sites/${encodeURIComponent(d.site_id)}`}>{d.site_id}</Link> : "not mapped"}</dd>
        <dt>Next wake</dt><dd>{formatTime(d.next_wake_at)}</dd>
        <dt>Last seen</dt><dd>{formatAgo(d.last_seen_at)}</dd>
        <dt>MQTT username</dt><dd><code>{d.mqtt_username}</code></dd>
        <dt>Registered</dt><dd>{formatTime(d.created_at)}</dd>
      </dl>
      <DeviceActions device={d} />
    </section>
  );
}

export function useDeviceDisabled(deviceId: string): boolean {
  return useDevice(deviceId).data?.status === "disabled";
}
