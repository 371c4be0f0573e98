import { useState, type FormEvent } from "react";
import { Dialog } from "@/components/Dialog";
import { Field } from "@/components/Field";
import { ErrorMessage } from "@/components/Feedback";
import { useMapDevice, useSiteChoices } from "../api/devices";

/** Seed 002's "Map device": pick a site; the device becomes active and gets its welcome command. */
export function MapSiteDialog({ deviceId, currentSite, open, onClose }: {
  deviceId: string; currentSite?: string | null; open: boolean; onClose: () => void;
}) {
  return (
    <Dialog title={`Map ${deviceId} to a site`} open={open} onClose={onClose}>
      <MapForm deviceId={deviceId} currentSite={currentSite} onClose={onClose} />
    </Dialog>
  );
}

function MapForm({ deviceId, currentSite, onClose }: { deviceId: string; currentSite?: string | null; onClose: () => void }) {
  const sites = useSiteChoices();
  const map = useMapDevice();
  const [siteId, setSiteId] = useState(currentSite ?? "");
  const [error, setError] = useState<string | null>(null);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!siteId) {
      setError("choose a site");
      return;
    }
    setError(null);
    map.mutate({ deviceId, siteId }, { onSuccess: onClose });
  }

  return (
    <form onSubmit={submit} className="stack" noValidate aria-label="Map device">
      <Field label="Site" error={error}>
        {(a11y) => (
          <select {...a11y} value={siteId} onChange={(e) => setSiteId(e.target.value)}>
            <option value="">Choose a site…</option>
            {sites.data?.sites.map((s) => (
              <option key={s.site_id} value={s.site_id}>{s.name} ({s.site_id}, {s.timezone})</option>
            ))}
          </select>
        )}
      </Field>
      <ErrorMessage error={sites.error ?? map.error} prefix="Not mapped" />
      <div className="row">
        <button type="submit" disabled={map.isPending}>Map device</button>
        <button type="button" className="secondary" onClick={onClose}>Cancel</button>
      </div>
    </form>
  );
}
