import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { ErrorMessage } from "@/components/Feedback";
import { Field } from "@/components/Field";
import { COMMAND_CATALOG, COMMAND_TYPE_PATTERN } from "../catalog";
import { useSendBatch, type BatchTargetPath } from "../api/batches";

/** "Send a command to every member": one command per enabled device of a group or site, followed as a batch. */
export function TargetCommandPanel({ target, targetId }: { target: BatchTargetPath; targetId: string }) {
  const [type, setType] = useState("ping");
  const [params, setParams] = useState("{}");
  const [error, setError] = useState<string | undefined>();
  const send = useSendBatch(target, targetId);
  const noun = target === "groups" ? "group" : "site";

  function submit(event: FormEvent) {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(params || "{}");
    } catch {
      parsed = undefined;
    }
    if (!COMMAND_TYPE_PATTERN.test(type)) return setError("lower-case letters, digits and _ . - only");
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return setError("parameters must be a JSON object");
    setError(undefined);
    send.mutate({ command_type: type, command_params: parsed as Record<string, unknown> });
  }

  return (
    <section className="panel" aria-labelledby="batch-command-title">
      <h2 id="batch-command-title">Send a command to the {noun}</h2>
      <form onSubmit={submit} aria-label={`Send a command to the ${noun}`} className="stack" noValidate>
        <Field label="Command type">
          {(a11y) => (
            <select {...a11y} value={type} onChange={(e) => { setType(e.target.value); send.reset(); }}>
              {Object.keys(COMMAND_CATALOG).map((name) => <option key={name} value={name}>{name}</option>)}
            </select>
          )}
        </Field>
        <Field label="Parameters (JSON)" error={error}>
          {(a11y) => <textarea {...a11y} rows={2} value={params} onChange={(e) => setParams(e.target.value)} />}
        </Field>
        <div className="row">
          <button type="submit" disabled={send.isPending}>Send to every member</button>
          {send.data && (
            <span role="status">
              {send.data.status === "sending"
                ? "Accepted: sending to every member"
                : `${send.data.sent ?? 0} sent, ${send.data.skipped ?? 0} skipped`} —{" "}
              <Link to={`/command-batches/${encodeURIComponent(send.data.batch_id)}`}>follow the batch</Link>
            </span>
          )}
        </div>
        <ErrorMessage error={send.error} prefix="Not sent" />
      </form>
    </section>
  );
}
