import { Link } from "react-router-dom";
import { ErrorMessage, Loading, StatusBadge } from "@/components/Feedback";
import { Pager, usePager } from "@/components/Pager";
import { useTemplates } from "../api/provisioning";

/** The tenant's provisioning templates: what boards enrolling by claim become, and how many did. */
export function TemplatesPage() {
  const pager = usePager();
  const templates = useTemplates(pager.token);
  const rows = templates.data?.templates ?? [];
  return (
    <main>
      <h1>Provisioning</h1>
      <p className="muted">
        Templates are written with the API (<code>POST /customer/provisioning-templates</code>); each one's page
        issues the claim certificates boards enrol with.
      </p>
      {templates.isPending && <Loading what="templates" />}
      <ErrorMessage error={templates.error} prefix="Templates unavailable" />
      <table aria-label="Provisioning templates">
        <thead>
          <tr><th scope="col">Template</th><th scope="col">Enabled</th><th scope="col">Device id</th>
            <th scope="col">Enrolled devices</th><th scope="col">Refused</th></tr>
        </thead>
        <tbody>
          {templates.data && rows.length === 0 && <tr><td colSpan={5} className="muted">No templates yet.</td></tr>}
          {rows.map((t) => (
            <tr key={t.template_name} data-template={t.template_name}>
              <td><Link to={`/provisioning/${encodeURIComponent(t.template_name)}`}>{t.template_name}</Link></td>
              <td><StatusBadge status={t.enabled === false ? "disabled" : "active"}
                label={t.enabled === false ? "disabled" : "enabled"} /></td>
              <td><code>{t.device_id}</code></td>
              <td data-testid="provisioned-count">{t.provisioned_count ?? 0}</td>
              <td data-testid="refused-count">{t.refused_count ?? 0}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pager={pager} nextToken={templates.data?.next_token} />
    </main>
  );
}

export default TemplatesPage;
