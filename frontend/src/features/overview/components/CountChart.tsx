import type { ReactNode } from "react";
import { BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

/** A bar chart of counts by `label`, as wide as its panel; the bars are the children. Decorative: the numbers
 * it draws are links beside it. */
export function CountChart({ data, height, children, everyTick = true }: {
  data: object[]; height: number; children: ReactNode; everyTick?: boolean;
}) {
  return (
    <div className="chart" aria-hidden="true">
      <ResponsiveContainer width="100%" height={height}>
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="label" tick={{ fontSize: 11 }} {...(everyTick ? { interval: 0 } : { minTickGap: 16 })} />
          <YAxis allowDecimals={false} tick={{ fontSize: 12 }} />
          <Tooltip />
          {children}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
