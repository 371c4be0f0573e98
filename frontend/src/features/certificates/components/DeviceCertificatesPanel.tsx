import { useState } from "react";
import { ErrorMessage, Loading, StatusBadge } from "@/components/Feedback";
import { downloadText as download } from "@/lib/download";
import { formatTime } from "@/lib/format";
import type { CreatedCertificate } from "@/types/api";
import { useCertificates, useCreateCertificate, useDeleteCertificate, useSetCertificateStatus } from "../api/certificates";

/** A device's X.509 client certificates: make one (key shown once), deactivate, revoke, delete. */
export function DeviceCertificatesPanel({ deviceId }: { deviceId: string }) {
  const certificates = useCertificates(deviceId);
  const create = useCreateCertificate(deviceId);
  const setStatus = useSetCertificateStatus(deviceId);
  const remove = useDeleteCertificate(deviceId);
  const [made, setMade] = useState<CreatedCertificate | null>(null);
  const busy = create.isPending || setStatus.isPending || remove.isPending;

  return (
    <section aria-labelledby="certificates-title">
      <div className="row spread">
        <h2 id="certificates-title">Certificates</h2>
        <button type="button" disabled={busy} onClick={() => create.mutate(undefined, { onSuccess: setMade })}>
          New certificate
        </button>
      </div>
      <p className="muted">
        Mutual TLS on port 8883: the certificate's CN is the device's MQTT username, and the device connects
        with that name (its thing name) as client id, or with none.
      </p>
      {create.error && <ErrorMessage error={create.error} prefix="No certificate made" />}
      {setStatus.error && <ErrorMessage error={setStatus.error} prefix="Not changed" />}
      {remove.error && <ErrorMessage error={remove.error} prefix="Not deleted" />}
      {made && (
        <div className="stack" role="region" aria-label="New certificate">
          <p role="status">
            Certificate <code data-testid="new-certificate-id">{made.certificate_id.slice(0, 16)}</code> made,
            valid until {formatTime(made.not_after)}.
          </p>
          <p>Its private key is shown <strong>only now</strong>: download both files into the device.</p>
          <div className="row">
            <button type="button" onClick={() => download(`${deviceId}.cert.pem`, made.certificate_pem)}>
              Download certificate
            </button>
            {made.private_key_pem && (
              <button type="button" onClick={() => download(`${deviceId}.key.pem`, made.private_key_pem ?? "")}>
                Download private key
              </button>
            )}
            <button type="button" className="secondary" onClick={() => setMade(null)}>Done</button>
          </div>
        </div>
      )}
      {certificates.isPending && <Loading what="certificates" />}
      {certificates.error && <ErrorMessage error={certificates.error} />}
      {certificates.data && (
        certificates.data.certificates.length === 0 ? <p className="muted">No certificate yet.</p> : (
          <table aria-label="Certificates">
            <thead>
              <tr><th>Fingerprint (SHA-256)</th><th>Status</th><th>Expires</th><th>Created</th><th>Actions</th></tr>
            </thead>
            <tbody>
              {certificates.data.certificates.map((c) => {
                const short = c.certificate_id.slice(0, 16);
                return (
                  <tr key={c.certificate_id} data-certificate-id={c.certificate_id}>
                    <td><code title={c.certificate_id}>{short}…</code></td>
                    <td><StatusBadge status={c.status.toLowerCase()} label={c.status} /></td>
                    <td>{formatTime(c.not_after)}</td>
                    <td>{formatTime(c.created_at)}</td>
                    <td className="row">
                      {c.status === "ACTIVE" && (
                        <button type="button" className="secondary" disabled={busy} aria-label={`Deactivate ${short}`}
                          onClick={() => setStatus.mutate({ id: c.certificate_id, status: "INACTIVE" })}>Deactivate</button>
                      )}
                      {c.status === "INACTIVE" && (
                        <button type="button" className="secondary" disabled={busy} aria-label={`Activate ${short}`}
                          onClick={() => setStatus.mutate({ id: c.certificate_id, status: "ACTIVE" })}>Activate</button>
                      )}
                      {c.status !== "REVOKED" && (
                        <button type="button" className="danger" disabled={busy} aria-label={`Revoke ${short}`}
                          onClick={() => {
                            if (window.confirm(`Revoke certificate ${short}? Its device is cut off and it can never be used again.`)) {
                              setStatus.mutate({ id: c.certificate_id, status: "REVOKED" });
                            }
                          }}>Revoke</button>
                      )}
                      {c.status !== "ACTIVE" && (
                        <button type="button" className="secondary" disabled={busy} aria-label={`Delete ${short}`}
                          onClick={() => remove.mutate(c.certificate_id)}>Delete</button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )
      )}
    </section>
  );
}
