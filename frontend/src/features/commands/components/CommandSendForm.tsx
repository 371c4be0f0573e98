import { useState, type FormEvent } from "react";
import { Field } from "@/components/Field";
import { ErrorMessage } from "@/components/Feedback";
import { ApiError } from "@/lib/api-client";
import { buildParams, COMMAND_CATALOG, COMMAND_TYPE_PATTERN, type ParamSpec } from "../catalog";
import { useSendCommand } from "../api/commands";

const CUSTOM = "__custom__";

function ParamInput({ spec, value, error, onChange }: {
  spec: ParamSpec; value: string; error?: string; onChange: (v: string) => void;
}) {
  return (
    <Field label={spec.name + (spec.required ? " (required)" : "")} error={error}>
      {(a11y) =>
        spec.kind === "json" ? (
          <textarea {...a11y} rows={3} value={value} placeholder={spec.placeholder}
            onChange={(e) => onChange(e.target.value)} />
        ) : (
          <input {...a11y} value={value} placeholder={spec.placeholder}
            inputMode={spec.kind === "integer" ? "numeric" : undefined}
            onChange={(e) => onChange(e.target.value)} />
        )
      }
    </Field>
  );
}

/** The send form: parameter fields follow the typed catalog; other types take free-form JSON. */
export function CommandSendForm({ deviceId }: { deviceId: string }) {
  const [type, setType] = useState("ping");
  const [customType, setCustomType] = useState("");
  const [values, setValues] = useState<Record<string, string>>({});
  const [customParams, setCustomParams] = useState("{}");
  const [expires, setExpires] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const send = useSendCommand(deviceId);
  const specs = type === CUSTOM ? [] : COMMAND_CATALOG[type] ?? [];
  const serverField = send.error instanceof ApiError ? send.error.field?.replace(/^command_params\./, "") : undefined;

  function submit(event: FormEvent) {
    event.preventDefault();
    const found: Record<string, string> = {};
    const commandType = type === CUSTOM ? customType.trim() : type;
    if (!COMMAND_TYPE_PATTERN.test(commandType)) found.command_type = "lower-case letters, digits and _ . - only";
    const built = buildParams(specs, values);
    Object.assign(found, built.errors);
    let params = built.params;
    if (type === CUSTOM) {
      try {
        const parsed: unknown = JSON.parse(customParams || "{}");
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) found.command_params = "must be a JSON object";
        else params = parsed as Record<string, unknown>;
      } catch {
        found.command_params = "is not valid JSON";
      }
    }
    const minutes = expires.trim() ? Number(expires) : null;
    if (minutes !== null && (!Number.isInteger(minutes) || minutes < 1)) found.expires_in_minutes = "a whole number of minutes, at least 1";
    setErrors(found);
    if (Object.keys(found).length) return;
    send.mutate({ command_type: commandType, command_params: params, expires_in_minutes: minutes });
  }

  return (
    <form onSubmit={submit} aria-label="Send a command" className="stack" noValidate>
      <Field label="Command type" error={errors.command_type}>
        {(a11y) => (
          <select {...a11y} value={type} onChange={(e) => { setType(e.target.value); setValues({}); setErrors({}); send.reset(); }}>
            {Object.keys(COMMAND_CATALOG).map((name) => <option key={name} value={name}>{name}</option>)}
            <option value={CUSTOM}>other (free-form)</option>
          </select>
        )}
      </Field>
      {type === CUSTOM && (
        <>
          <Field label="Custom type" error={errors.command_type}>
            {(a11y) => <input {...a11y} value={customType} onChange={(e) => setCustomType(e.target.value)} />}
          </Field>
          <Field label="Parameters (JSON)" error={errors.command_params ?? (serverField === "command_params" ? send.error?.message : undefined)}>
            {(a11y) => <textarea {...a11y} rows={3} value={customParams} onChange={(e) => setCustomParams(e.target.value)} />}
          </Field>
        </>
      )}
      {specs.map((spec) => (
        <ParamInput key={spec.name} spec={spec} value={values[spec.name] ?? ""}
          error={errors[spec.name] ?? (serverField === spec.name ? send.error?.message : undefined)}
          onChange={(v) => setValues((old) => ({ ...old, [spec.name]: v }))} />
      ))}
      <Field label="Expires in minutes" hint="empty: the stage's default" error={errors.expires_in_minutes}>
        {(a11y) => <input {...a11y} inputMode="numeric" value={expires} onChange={(e) => setExpires(e.target.value)} />}
      </Field>
      <div className="row">
        <button type="submit" disabled={send.isPending}>Send command</button>
        {send.isSuccess && <span role="status" className="muted">Sent {send.data.command_type} ({send.data.mqtt_published ? "published" : "queued for retry"})</span>}
      </div>
      {send.error && !(serverField && (specs.some((s) => s.name === serverField) || serverField === "command_params")) && (
        <ErrorMessage error={send.error} prefix="Not sent" />
      )}
    </form>
  );
}
