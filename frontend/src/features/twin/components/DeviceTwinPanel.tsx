import { useState } from "react";
import { ErrorMessage, Loading, StatusBadge } from "@/components/Feedback";
import { ApiError } from "@/lib/api-client";
import { formatTime, prettyJson } from "@/lib/format";
import type { TwinView } from "@/types/api";
import { mergePatch, usePatchDesired, useTwin } from "../api/twin";

const SYNC_HELP: Record<string, string> = {
  synced: "the device reported the latest desired version",
  pending: "the device has not yet applied the latest desired version",
  stale: "the device has not been seen recently; its reported state may be out of date",
};

function Conflict({ error, onReload }: { error: ApiError; onReload: () => void }) {
  const current = error.body?.current;
  return (
    <div role="alert" className="error">
      <p>
        <strong>Not saved: the desired state changed since you opened the editor.</strong> Someone (or something) wrote
        version {String(current ?? "?")} in the meantime, and the API refuses a write based on an older version (409)
        so that it never overwrites a change you have not seen.
      </p>
      <button type="button" onClick={onReload}>Load latest desired state</button>
    </div>
  );
}

/** Seed 003's twin panel: desired, reported and delta side by side, sync badge, desired editor. */
export function DeviceTwinPanel({ deviceId }: { deviceId: string }) {
  const twin = useTwin(deviceId);
  const patch = usePatchDesired(deviceId);
  const [draft, setDraft] = useState<string | null>(null);
  const [baseVersion, setBaseVersion] = useState(0);
  const [base, setBase] = useState<Record<string, unknown>>({});
  const [parseError, setParseError] = useState<string | null>(null);

  if (twin.isPending) return <section className="panel"><h2>Twin</h2><Loading what="twin" /></section>;
  if (twin.error || !twin.data) return <section className="panel"><h2>Twin</h2><ErrorMessage error={twin.error} /></section>;
  const view = twin.data;

  function startEditing(from: TwinView = view) {
    setDraft(prettyJson(from.desired));
    setBase(from.desired);
    setBaseVersion(from.desired_version);
    setParseError(null);
    patch.reset();
  }

  function save() {
    let parsed: unknown;
    try {
      parsed = JSON.parse(draft ?? "");
    } catch (e) {
      setParseError(`Not valid JSON: ${(e as Error).message}`);
      return;
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      setParseError("The desired state must be a JSON object.");
      return;
    }
    const changes = mergePatch(base, parsed as Record<string, unknown>);
    if (Object.keys(changes).length === 0) {
      setParseError("Nothing changed.");
      return;
    }
    setParseError(null);
    patch.mutate({ desired: changes, version: baseVersion }, { onSuccess: () => setDraft(null) });
  }

  const conflict = patch.error instanceof ApiError && patch.error.status === 409 ? patch.error : null;

  return (
    <section className="panel" aria-labelledby="twin-title">
      <div className="row spread">
        <h2 id="twin-title">Twin</h2>
        <p className="row">
          <span>Sync status</span>
          <span aria-label={`Sync status: ${view.sync_status}`} title={SYNC_HELP[view.sync_status]} data-testid="sync-status">
            <StatusBadge status={view.sync_status} />
          </span>
        </p>
      </div>
      <p className="muted small">
        desired version {view.desired_version} · reported version {view.reported_version} · updated {formatTime(view.shadow_updated_at)} — {SYNC_HELP[view.sync_status]}
      </p>
      <div className="columns">
        <figure><figcaption>Desired</figcaption><pre aria-label="Desired state">{prettyJson(view.desired)}</pre></figure>
        <figure><figcaption>Reported</figcaption><pre aria-label="Reported state">{prettyJson(view.reported)}</pre></figure>
        <figure><figcaption>Delta</figcaption><pre aria-label="Delta">{prettyJson(view.delta)}</pre></figure>
      </div>
      {draft === null ? (
        <button type="button" onClick={() => startEditing()}>Edit desired state</button>
      ) : (
        <div className="stack">
          <label htmlFor="desired-editor">Desired state (JSON, based on version {baseVersion})</label>
          <textarea id="desired-editor" rows={8} value={draft} spellCheck={false}
            aria-invalid={Boolean(parseError)} onChange={(e) => setDraft(e.target.value)} />
          <p className="muted small">Removing a key deletes it; the save sends only what changed, with version {baseVersion}.</p>
          {parseError && <p role="alert" className="error">{parseError}</p>}
          {conflict ? <Conflict error={conflict} onReload={() => { void twin.refetch().then((r) => r.data && startEditing(r.data)); }} />
            : <ErrorMessage error={patch.error} prefix="Not saved" />}
          <div className="row">
            <button type="button" onClick={save} disabled={patch.isPending}>Save desired state</button>
            <button type="button" className="secondary" onClick={() => { setDraft(null); patch.reset(); }}>Cancel editing</button>
          </div>
        </div>
      )}
    </section>
  );
}
