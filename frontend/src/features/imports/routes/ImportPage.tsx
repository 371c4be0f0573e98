import { useState } from "react";
import { useParams } from "react-router-dom";
import { ErrorMessage, Loading, StatusBadge } from "@/components/Feedback";
import { Pager, usePager } from "@/components/Pager";
import type { ImportCredentials, RowOutcome } from "@/types/api";
import { useDownloadCredentials, useImport } from "../api/imports";

const OUTCOMES: (RowOutcome | null)[] = ["refused", "existed", "created", null];

/** A CSV cell: PEM text spans lines, so it is quoted (RFC 4180). */
function cell(text: string | null | undefined): string {
  return text ? `"${text.replaceAll('"', '""')}"` : "";
}

function save(answer: ImportCredentials) {
  // Rows that asked for a certificate add its id, certificate and key: the key exists nowhere else.
  const certificates = answer.credentials.some((c) => c.certificate_pem);
  const lines = [
    "device_id,mqtt_username,provision_token" + (certificates ? ",certificate_id,certificate_pem,private_key_pem" : ""),
    ...answer.credentials.map((c) => `${c.device_id},${c.mqtt_username},${c.provision_token}` + (certificates
      ? `,${c.certificate_id ?? ""},${cell(c.certificate_pem)},${cell(c.private_key_pem)}` : "")),
  ];
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/csv" }));
  link.download = `credentials-${answer.import_id}.csv`;
  link.click();
  URL.revokeObjectURL(link.href);
}

/** One import: its progress (live while it runs), its counts, its rows' results (refused first), its credentials. */
export function ImportPage() {
  const { importId = "" } = useParams();
  const [outcome, setOutcome] = useState<RowOutcome | null>("refused");
  const pager = usePager();
  const view = useImport(importId, outcome, pager.token);
  const download = useDownloadCredentials(importId);
  if (view.isPending) return <main><Loading what="import" /></main>;
  if (!view.data) return <main><h1>Import {importId}</h1><ErrorMessage error={view.error} /></main>;
  const v = view.data;
  const done = (v.created ?? 0) + (v.existed ?? 0) + (v.refused ?? 0);
  return (
    <main>
      <h1>Import <span className="muted small">{v.import_id}</span></h1>
      <p><StatusBadge status={v.status ?? "running"} /> {done} of {v.rows} rows done</p>
      <progress aria-label="Rows done" max={v.rows} value={done} />
      <table aria-label="Counts per outcome">
        <thead><tr><th scope="col">created</th><th scope="col">existed</th><th scope="col">refused</th></tr></thead>
        <tbody><tr><td data-outcome="created">{v.created ?? 0}</td><td data-outcome="existed">{v.existed ?? 0}</td>
          <td data-outcome="refused">{v.refused ?? 0}</td></tr></tbody>
      </table>
      {v.credentials === "available" && (
        <p>
          <button type="button" onClick={() => download.mutate(undefined, { onSuccess: save })}
            disabled={download.isPending || download.isSuccess}>Download credentials (once)</button>{" "}
          <span className="muted">The provision tokens of the created devices, and the certificates and keys
            of the rows that asked for one; they cannot be read again.</span>
        </p>
      )}
      {download.isSuccess && <p role="status">Saved {download.data.credentials.length} credentials.</p>}
      {v.credentials !== "available" && v.credentials !== "none" && v.credentials !== "pending" && (
        <p className="muted">Credentials: {v.credentials}.</p>
      )}
      <ErrorMessage error={download.error} />
      <fieldset>
        <legend>Rows</legend>
        {OUTCOMES.map((o) => (
          <label key={o ?? "all"}>
            <input type="radio" name="outcome" checked={outcome === o}
              onChange={() => { setOutcome(o); pager.reset(); }} /> {o ?? "all"}
          </label>
        ))}
      </fieldset>
      <table aria-label="Row results">
        <thead><tr><th scope="col">Row</th><th scope="col">Device</th><th scope="col">Outcome</th>
          <th scope="col">Reason</th></tr></thead>
        <tbody>
          {v.results.length === 0 && <tr><td colSpan={4} className="muted">No rows.</td></tr>}
          {v.results.map((r) => (
            <tr key={r.row} data-row={r.row}>
              <td>{r.row}</td><td>{r.device_id ?? ""}</td><td><StatusBadge status={r.outcome} /></td>
              <td>{r.reason ?? ""}{r.field ? <span className="muted"> ({r.field})</span> : null}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pager={pager} nextToken={v.next_token} />
    </main>
  );
}

export default ImportPage;
