import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router-dom";
import { ErrorMessage, Loading, StatusBadge } from "@/components/Feedback";
import { formatTime } from "@/lib/format";
import { importType, useImports, useStartImport } from "../api/imports";

/** Upload a CSV or JSON lines file of devices; the imports so far, newest first. */
export function ImportsPage() {
  const [file, setFile] = useState<File | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const start = useStartImport();
  const imports = useImports();
  const navigate = useNavigate();

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!file) return;
    const contentType = importType(file.name);
    if (!contentType) {
      setProblem("The file must be a .csv or a .jsonl (JSON lines) file.");
      return;
    }
    setProblem(null);
    start.mutate({ file, contentType }, { onSuccess: (made) => navigate(`/imports/${made.import_id}`) });
  }

  return (
    <main>
      <h1>Import devices</h1>
      <p className="muted">
        A CSV with the header <code>device_id,name,attributes,groups,site,certificate</code> (attributes as a JSON
        object, groups separated by <code>;</code>, certificate <code>yes</code> or <code>no</code>) or one JSON
        object per line (<code>"certificate": true</code>); up to 10,000 rows. A row with a certificate also gets an
        X.509 certificate and key, downloaded once with the tokens.
      </p>
      <form onSubmit={submit} aria-label="Import devices">
        <label>
          File
          <input type="file" accept=".csv,.jsonl,.ndjson" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </label>
        <button type="submit" disabled={!file || start.isPending}>Import</button>
      </form>
      {problem && <p role="alert" className="error">{problem}</p>}
      <ErrorMessage error={start.error} prefix="Import refused" />
      <h2>Imports</h2>
      {imports.isPending && <Loading what="imports" />}
      <ErrorMessage error={imports.error} />
      <table aria-label="Imports">
        <thead>
          <tr><th scope="col">Import</th><th scope="col">Status</th><th scope="col">Rows</th><th scope="col">Created</th>
            <th scope="col">Existed</th><th scope="col">Refused</th><th scope="col">Started</th></tr>
        </thead>
        <tbody>
          {imports.data?.imports.length === 0 && <tr><td colSpan={7} className="muted">No imports yet.</td></tr>}
          {imports.data?.imports.map((i) => (
            <tr key={i.import_id}>
              <td><Link to={`/imports/${i.import_id}`}>{i.import_id}</Link></td>
              <td><StatusBadge status={i.status ?? "running"} /></td>
              <td>{i.rows}</td><td>{i.created ?? 0}</td><td>{i.existed ?? 0}</td><td>{i.refused ?? 0}</td>
              <td>{formatTime(i.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}

export default ImportsPage;
