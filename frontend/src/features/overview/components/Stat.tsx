import { Link } from "react-router-dom";

/** One number of the overview, linking to the filtered list behind it. */
export function Stat({ label, value, to, tone, atLeast }: {
  label: string; value: number; to: string; tone?: "good" | "warn" | "bad"; atLeast?: boolean;
}) {
  const slug = label.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  return (
    <Link to={to} className={`stat${tone ? ` stat-${tone}` : ""}`} data-stat={slug}
      aria-label={`${label}: ${atLeast ? "at least " : ""}${value}`}>
      <span className="stat-value" data-testid={`stat-${slug}`}>{atLeast ? "≥" : ""}{value}</span>
      <span className="stat-label">{label}</span>
    </Link>
  );
}
