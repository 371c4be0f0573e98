import { useState } from "react";
import { ErrorMessage } from "@/components/Feedback";
import type { Device } from "@/types/api";
import { useSetEnabled, useUnmapDevice } from "../api/devices";
import { MapSiteDialog } from "./MapSiteDialog";

/** Disable or enable a device, map it to a site or take it off its site. */
export function DeviceActions({ device, compact }: { device: Device; compact?: boolean }) {
  const [mapping, setMapping] = useState(false);
  const setEnabled = useSetEnabled();
  const unmap = useUnmapDevice();
  const disabled = device.status === "disabled";
  const label = (text: string) => (compact ? `${text} ${device.device_id}` : text);
  return (
    <div className="row">
      <button type="button" className="secondary" aria-label={label("Map to site")} onClick={() => setMapping(true)}>
        {device.site_id ? "Move to site" : "Map to site"}
      </button>
      {device.site_id && !compact && (
        <button type="button" className="secondary" disabled={unmap.isPending} onClick={() => unmap.mutate(device.device_id)}>
          Remove from site
        </button>
      )}
      <button type="button" className={disabled ? "secondary" : "danger"} aria-label={label(disabled ? "Enable" : "Disable")}
        disabled={setEnabled.isPending}
        onClick={() => setEnabled.mutate({ deviceId: device.device_id, enabled: disabled })}>
        {disabled ? "Enable" : "Disable"}
      </button>
      <ErrorMessage error={setEnabled.error ?? unmap.error} />
      <MapSiteDialog deviceId={device.device_id} currentSite={device.site_id} open={mapping} onClose={() => setMapping(false)} />
    </div>
  );
}
