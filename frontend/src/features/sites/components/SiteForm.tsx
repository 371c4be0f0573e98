import { useState, type FormEvent } from "react";
import { Field } from "@/components/Field";
import { ErrorMessage } from "@/components/Feedback";
import { ApiError } from "@/lib/api-client";
import type { Site } from "@/types/api";
import { WakePreview } from "./WakePreview";
import { ID_HINT, ID_PATTERN } from "@/lib/ids";

export interface SiteValues {
  site_id: string;
  name: string;
  wake_schedule_cron: string;
  timezone: string;
  program: string;
  company: string;
}


export function siteValues(site?: Site): SiteValues {
  return {
    site_id: site?.site_id ?? "", name: site?.name ?? "", wake_schedule_cron: site?.wake_schedule_cron ?? "0 6 * * *",
    timezone: site?.timezone ?? "UTC", program: site?.program ?? "", company: site?.company ?? "",
  };
}

/** Create or edit a site, previewing the next wake times as the cron and timezone change. */
export function SiteForm({ initial, editing, submitLabel, pending, error, onSubmit, onCancel }: {
  initial: SiteValues; editing: boolean; submitLabel: string; pending: boolean; error: unknown;
  onSubmit: (values: SiteValues) => void; onCancel: () => void;
}) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const serverField = error instanceof ApiError ? error.field : undefined;
  const set = (key: keyof SiteValues) => (e: { target: { value: string } }) => setValues((v) => ({ ...v, [key]: e.target.value }));
  const fieldError = (key: string) => errors[key] ?? (serverField === key && error instanceof ApiError ? error.message : undefined);

  function submit(event: FormEvent) {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!editing && values.site_id && !ID_PATTERN.test(values.site_id)) found.site_id = ID_HINT;
    if (!values.name.trim()) found.name = "required";
    if (!values.wake_schedule_cron.trim()) found.wake_schedule_cron = "required";
    setErrors(found);
    if (!Object.keys(found).length) onSubmit(values);
  }

  return (
    <form onSubmit={submit} className="stack" noValidate aria-label={editing ? "Edit site" : "New site"}>
      {!editing && (
        <Field label="Site id" hint="empty: one is generated" error={fieldError("site_id")}>
          {(a11y) => <input {...a11y} value={values.site_id} onChange={set("site_id")} />}
        </Field>
      )}
      <Field label="Name" error={fieldError("name")}>{(a11y) => <input {...a11y} value={values.name} onChange={set("name")} />}</Field>
      <Field label="Wake schedule (cron)" hint="minute hour day month weekday, e.g. 30 6 * * *" error={fieldError("wake_schedule_cron")}>
        {(a11y) => <input {...a11y} value={values.wake_schedule_cron} onChange={set("wake_schedule_cron")} />}
      </Field>
      <Field label="Timezone" hint="IANA name, e.g. Europe/Berlin" error={fieldError("timezone")}>
        {(a11y) => <input {...a11y} value={values.timezone} onChange={set("timezone")} />}
      </Field>
      <WakePreview cron={values.wake_schedule_cron} timezone={values.timezone} />
      <Field label="Program" error={fieldError("program")}>{(a11y) => <input {...a11y} value={values.program} onChange={set("program")} />}</Field>
      <Field label="Company" error={fieldError("company")}>{(a11y) => <input {...a11y} value={values.company} onChange={set("company")} />}</Field>
      {Boolean(error) && !fieldError(serverField ?? "") && <ErrorMessage error={error} prefix="Not saved" />}
      <div className="row">
        <button type="submit" disabled={pending}>{submitLabel}</button>
        <button type="button" className="secondary" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}
