import { Link, useParams } from "react-router-dom";
import { ErrorMessage, Loading, StatusBadge } from "@/components/Feedback";
import { formatTime } from "@/lib/format";
import { useTemplate } from "../api/provisioning";
import { ClaimCertificatesPanel } from "../components/ClaimCertificatesPanel";

/** One template: what an enrolment makes, its counts and last refusal, and its claim certificates. */
export function TemplatePage() {
  const { templateName = "" } = useParams();
  const template = useTemplate(templateName);
  const t = template.data;
  return (
    <main>
      <p><Link to="/provisioning">← Provisioning</Link></p>
      <h1>Template {templateName}</h1>
      {template.isPending && <Loading what="template" />}
      <ErrorMessage error={template.error} prefix="Template unavailable" />
      {t && (
        <section aria-label="Template">
          <dl className="facts">
            <dt>Status</dt>
            <dd><StatusBadge status={t.enabled === false ? "disabled" : "active"}
              label={t.enabled === false ? "disabled" : "enabled"} /></dd>
            <dt>Device id</dt><dd><code>{t.device_id}</code></dd>
            <dt>Parameters</dt><dd>{Object.keys(t.parameters ?? {}).join(", ") || "—"}</dd>
            <dt>Groups</dt><dd>{(t.groups ?? []).join(", ") || "—"}</dd>
            <dt>Enrolled devices</dt>
            <dd>
              <span data-testid="template-provisioned">{t.provisioned_count ?? 0}</span>
              {t.site_id ? (
                <> mapped to site <Link to={`/sites/${encodeURIComponent(t.site_id)}`}>{t.site_id}</Link> (active)</>
              ) : (
                <> — they wait <Link to="/devices?status=pending_mapping">unmapped (pending_mapping)</Link> for
                  a site</>
              )}
            </dd>
            <dt>Refused</dt>
            <dd>
              <span data-testid="template-refused">{t.refused_count ?? 0}</span>
              {t.last_refusal && <> — last, {formatTime(String(t.last_refusal.at ?? ""))}:{" "}
                <span data-testid="template-last-refusal">{String(t.last_refusal.error_code ?? "")}{" "}
                  {String(t.last_refusal.message ?? "")}</span></>}
            </dd>
            <dt>Updated</dt><dd>{formatTime(t.updated_at)}</dd>
          </dl>
        </section>
      )}
      {t && <ClaimCertificatesPanel template={t.template_name} />}
    </main>
  );
}

export default TemplatePage;
