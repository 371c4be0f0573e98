import { Bar, Cell } from "recharts";
import { useNavigate } from "react-router-dom";
import type { DevicePresence, PresenceBucket } from "@/types/api";
import { CountChart } from "./CountChart";
import { Stat } from "./Stat";

const BUCKETS: { key: PresenceBucket; label: string; colour: string }[] = [
  { key: "online", label: "Online now", colour: "#2f9e55" },
  { key: "hour", label: "< 1 h", colour: "#e0a100" },
  { key: "day", label: "< 24 h", colour: "#d97a1f" },
  { key: "week", label: "< 7 d", colour: "#c2552d" },
  { key: "older", label: "Older", colour: "#8a8f99" },
  { key: "never", label: "Never seen", colour: "#b9c2d6" },
];

export const devicesWith = (presence: string) => `/devices?presence=${presence}`;

/** Devices connected now vs offline, and how long ago the offline ones were last heard from. */
export function PresencePanel({ devices }: { devices: DevicePresence }) {
  const navigate = useNavigate();
  const data = BUCKETS.map((b) => ({ ...b, count: devices.buckets[b.key] ?? 0 }));
  return (
    <section className="panel" aria-labelledby="presence-title">
      <h2 id="presence-title">Devices</h2>
      <div className="stats">
        <Stat label="Online" value={devices.online} to={devicesWith("online")} tone="good" atLeast={devices.truncated} />
        <Stat label="Offline" value={devices.offline} to={devicesWith("offline")}
          tone={devices.offline ? "warn" : undefined} atLeast={devices.truncated} />
        <Stat label="Total" value={devices.total} to="/devices" atLeast={devices.truncated} />
      </div>
      <h3>Last seen</h3>
      <CountChart data={data} height={180}>
        <Bar dataKey="count" name="devices" isAnimationActive={false}
          onClick={(entry: { payload?: { key?: string } }) => entry.payload?.key && navigate(devicesWith(entry.payload.key))}>
          {data.map((d) => <Cell key={d.key} fill={d.colour} cursor="pointer" />)}
        </Bar>
      </CountChart>
      <ul className="legend" aria-label="Devices by last seen">
        {data.map((d) => (
          <li key={d.key}>
            <span className="swatch" style={{ background: d.colour }} />
            <Stat label={d.label} value={d.count} to={devicesWith(d.key)} atLeast={devices.truncated} />
          </li>
        ))}
      </ul>
    </section>
  );
}
