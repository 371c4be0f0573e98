import { StatusBadge } from "@/components/Feedback";
import { formatBytes } from "../format";
import type { Firmware } from "@/types/api";

interface Props {
  items: Firmware[];
  selected: string;
  onSelect: (firmwareId: string) => void;
}

/** Artifacts with the checksum the platform computed; a ready one can be chosen for a rollout. */
export function FirmwareTable({ items, selected, onSelect }: Props) {
  if (!items.length) return <p className="muted">No firmware uploaded yet.</p>;
  return (
    <table aria-label="Firmware">
      <thead>
        <tr><th>Version</th><th>Model</th><th>Status</th><th>Size</th><th>SHA-256</th><th>Roll out</th></tr>
      </thead>
      <tbody>
        {items.map((f) => (
          <tr key={f.firmware_id} data-firmware={f.firmware_id}>
            <td>{f.version}</td>
            <td>{f.device_model}</td>
            <td><StatusBadge status={f.status} />{f.reason ? <span className="muted small"> {f.reason}</span> : null}</td>
            <td>{f.size_bytes != null ? formatBytes(f.size_bytes) : "–"}</td>
            <td><code title={f.sha256 ?? ""}>{f.sha256 ? `${f.sha256.slice(0, 16)}…` : "–"}</code></td>
            <td>
              <input type="radio" name="rollout-firmware" aria-label={`Roll out ${f.version}`}
                disabled={f.status !== "ready"} checked={selected === f.firmware_id}
                onChange={() => onSelect(f.firmware_id)} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
