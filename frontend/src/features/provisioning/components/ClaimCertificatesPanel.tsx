import { useState } from "react";
import { ErrorMessage, Loading, StatusBadge } from "@/components/Feedback";
import { Pager, usePager } from "@/components/Pager";
import { formatTime } from "@/lib/format";
import { useClaims, useIssueClaim, useSetClaimStatus } from "../api/provisioning";

/** A template's claim certificates: issue one (certificate and key downloaded once), list, revoke. */
export function ClaimCertificatesPanel({ template }: { template: string }) {
  const pager = usePager();
  const claims = useClaims(template, pager.token);
  const issue = useIssueClaim(template);
  const setStatus = useSetClaimStatus(template);
  const [asking, setAsking] = useState(false);
  const busy = issue.isPending || setStatus.isPending;
  const rows = claims.data?.claim_certificates ?? [];

  return (
    <section aria-labelledby="claims-title">
      <div className="row spread">
        <h2 id="claims-title">Claim certificates</h2>
        <button type="button" disabled={busy} onClick={() => { issue.reset(); setAsking(true); }}>
          New claim certificate
        </button>
      </div>
      <p className="muted">
        A factory flashes one claim into every board of this template; each board enrols itself on first boot
        (AWS IoT fleet provisioning by claim) and gets its own certificate and device.
      </p>
      {asking && (
        <div className="stack" role="region" aria-label="Issue a claim certificate">
          <p role="note">
            <strong>The private key is shown once.</strong> Both files download as soon as the claim is made;
            this page keeps neither, and the key can never be downloaded again.
          </p>
          <div className="row">
            <button type="button" disabled={busy}
              onClick={() => issue.mutate(undefined, { onSettled: () => setAsking(false) })}>
              Make and download
            </button>
            <button type="button" className="secondary" onClick={() => setAsking(false)}>Cancel</button>
          </div>
        </div>
      )}
      <ErrorMessage error={issue.error} prefix="No claim certificate made" />
      <ErrorMessage error={setStatus.error} prefix="Not changed" />
      {issue.data && (
        <p role="status" data-testid="new-claim">
          Claim <code>{issue.data.certificate_id.slice(0, 16)}</code> made, valid until {formatTime(issue.data.not_after)}:
          downloaded as {issue.data.files.join(" and ")}. Keep the key safe; it is not shown again.
        </p>
      )}
      {claims.isPending && <Loading what="claim certificates" />}
      <ErrorMessage error={claims.error} />
      {claims.data && (rows.length === 0 && pager.page === 1 ? <p className="muted">No claim certificate yet.</p> : (
        <table aria-label="Claim certificates">
          <thead>
            <tr><th scope="col">Claim</th><th scope="col">Status</th><th scope="col">Expires</th>
              <th scope="col">Created</th><th scope="col">Actions</th></tr>
          </thead>
          <tbody>
            {rows.map((c) => {
              const short = c.certificate_id.slice(0, 16);
              return (
                <tr key={c.certificate_id} data-claim-id={c.certificate_id}>
                  <td><code title={c.certificate_id}>{short}…</code></td>
                  <td><StatusBadge status={c.status.toLowerCase()} label={c.status} /></td>
                  <td>{formatTime(c.not_after)}</td>
                  <td>{formatTime(c.created_at)}</td>
                  <td>
                    {c.status !== "REVOKED" && (
                      <button type="button" className="danger" disabled={busy} aria-label={`Revoke ${short}`}
                        onClick={() => {
                          if (window.confirm(`Revoke claim ${short}? Boards holding it can no longer enrol, `
                            + "and it can never be used again.")) {
                            setStatus.mutate({ id: c.certificate_id, status: "REVOKED" });
                          }
                        }}>Revoke</button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ))}
      <Pager pager={pager} nextToken={claims.data?.next_token} />
    </section>
  );
}
