import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { ErrorMessage, Loading } from "@/components/Feedback";
import type { Group } from "@/types/api";
import { useVersions } from "../api/firmware";

interface Props {
  groupId: string;
  onGroup: (groupId: string) => void;
  groups: Group[];
}

/** Devices per reported firmware version (twin reports, counted by the platform), in the fleet or a group. */
export function VersionChart({ groupId, onGroup, groups }: Props) {
  const versions = useVersions(groupId);
  const data = Object.entries(versions.data?.versions ?? {}).map(([version, devices]) => ({ version, devices }));
  return (
    <section className="card" aria-label="Firmware versions">
      <div className="row spread">
        <h2>Versions in the fleet</h2>
        <label className="row">
          Scope
          <select value={groupId} onChange={(e) => onGroup(e.target.value)}>
            <option value="">whole fleet</option>
            {groups.map((g) => <option key={g.group_id} value={g.group_id}>{g.name} ({g.group_id})</option>)}
          </select>
        </label>
      </div>
      <ErrorMessage error={versions.error} prefix="Versions unavailable" />
      {versions.isPending ? <Loading what="versions" /> : (
        <>
          <div style={{ width: "100%", height: 220 }}>
            <ResponsiveContainer>
              <BarChart data={data}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="version" />
                <YAxis allowDecimals={false} />
                <Tooltip />
                <Bar dataKey="devices" fill="#3b6ea5" isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          </div>
          {/* The same numbers as text: what a screen reader (and a test) reads. */}
          <ul aria-label="Devices per version" className="small">
            {data.map((d) => <li key={d.version} data-version={d.version}>{d.version}: {d.devices}</li>)}
          </ul>
        </>
      )}
    </section>
  );
}
