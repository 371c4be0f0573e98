import { describeError } from "@/lib/api-client";

/** An error announced to screen readers; renders nothing without an error. */
export function ErrorMessage({ error, prefix }: { error: unknown; prefix?: string }) {
  if (!error) return null;
  return (
    <p role="alert" className="error">
      {prefix ? `${prefix}: ` : ""}
      {describeError(error)}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return <p aria-busy="true" className="muted">Loading {what}…</p>;
}

/** A status word as a coloured badge; colour follows the status family, the text says it. */
export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return (
    <span className={`badge badge-${status.toLowerCase()}`} data-status={status}>
      {label ?? status}
    </span>
  );
}
