import { useState, type FormEvent } from "react";
import { Dialog } from "@/components/Dialog";
import { Field } from "@/components/Field";
import { ErrorMessage } from "@/components/Feedback";
import { ApiError } from "@/lib/api-client";
import type { CreatedDevice } from "@/types/api";
import { useRegisterDevice } from "../api/devices";
import { ID_HINT, ID_PATTERN } from "@/lib/ids";


/** Register a device; its provision token is shown once, with a copy button. */
export function RegisterDeviceDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  return (
    <Dialog title="Register device" open={open} onClose={onClose}>
      <RegisterForm onClose={onClose} />
    </Dialog>
  );
}

function RegisterForm({ onClose }: { onClose: () => void }) {
  const [deviceId, setDeviceId] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedDevice | null>(null);
  const [copied, setCopied] = useState(false);
  const register = useRegisterDevice();
  const serverField = register.error instanceof ApiError ? register.error.field : undefined;

  function submit(event: FormEvent) {
    event.preventDefault();
    const id = deviceId.trim();
    if (id && !ID_PATTERN.test(id)) {
      setError(ID_HINT);
      return;
    }
    setError(null);
    register.mutate({ device_id: id || null, name: name.trim() || null }, { onSuccess: setCreated });
  }

  if (created) {
    return (
      <div className="stack">
        <p role="status">Device <strong>{created.device_id}</strong> registered.</p>
        <p>Its provision token is shown <strong>only now</strong>: copy it into the device. A lost token can be replaced by rotating it.</p>
        <p>MQTT username: <code data-testid="mqtt-username">{created.mqtt_username}</code> (the password is the token).</p>
        <label htmlFor="new-token">Provision token</label>
        <input id="new-token" readOnly value={created.provision_token} onFocus={(e) => e.target.select()} />
        <div className="row">
          <button type="button" onClick={() => { void navigator.clipboard?.writeText(created.provision_token).then(() => setCopied(true)); }}>
            Copy token
          </button>
          {copied && <span role="status" className="muted">Copied</span>}
          <button type="button" className="secondary" onClick={onClose}>Done</button>
        </div>
      </div>
    );
  }
  return (
    <form onSubmit={submit} className="stack" noValidate aria-label="New device">
      <Field label="Device id" hint="empty: one is generated" error={error ?? (serverField === "device_id" ? register.error?.message : null)}>
        {(a11y) => <input {...a11y} value={deviceId} onChange={(e) => setDeviceId(e.target.value)} />}
      </Field>
      <Field label="Name" error={serverField === "name" ? register.error?.message : null}>
        {(a11y) => <input {...a11y} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      {register.error && serverField !== "device_id" && serverField !== "name" && <ErrorMessage error={register.error} prefix="Not registered" />}
      <div className="row">
        <button type="submit" disabled={register.isPending}>Register</button>
        <button type="button" className="secondary" onClick={onClose}>Cancel</button>
      </div>
    </form>
  );
}
