import { useState, type FormEvent } from "react";
import { Field } from "@/components/Field";
import { ErrorMessage } from "@/components/Feedback";
import { useUpload } from "../api/firmware";

const VERSION = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$/;

/** Upload an image: the bar follows the bytes sent to the storage; the platform then checks them. */
export function UploadForm() {
  const [file, setFile] = useState<File | null>(null);
  const [version, setVersion] = useState("");
  const [model, setModel] = useState("sim");
  const [notes, setNotes] = useState("");
  const [progress, setProgress] = useState<[number, number] | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const upload = useUpload((sent, total) => setProgress([sent, total]));

  function submit(event: FormEvent) {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!file) found.file = "choose an image file";
    if (!VERSION.test(version)) found.version = "letters, digits and _ . + - (at most 64)";
    if (!VERSION.test(model)) found.device_model = "letters, digits and _ . + - (at most 64)";
    setErrors(found);
    if (Object.keys(found).length || !file) return;
    setProgress([0, file.size]);
    upload.mutate({ file, version, deviceModel: model, notes });
  }

  const done = upload.data;
  return (
    <form onSubmit={submit} aria-label="Upload firmware" className="card">
      <h2>Upload an image</h2>
      <Field label="Image file" error={errors.file}>
        {(a11y) => <input {...a11y} type="file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />}
      </Field>
      <Field label="Version" error={errors.version}>
        {(a11y) => <input {...a11y} value={version} onChange={(e) => setVersion(e.target.value)} placeholder="1.4.0" />}
      </Field>
      <Field label="Device model" error={errors.device_model}>
        {(a11y) => <input {...a11y} value={model} onChange={(e) => setModel(e.target.value)} />}
      </Field>
      <Field label="Notes">
        {(a11y) => <input {...a11y} value={notes} onChange={(e) => setNotes(e.target.value)} />}
      </Field>
      {progress && (
        <label className="row">
          Upload
          <progress aria-label="Upload progress" max={progress[1] || 1} value={progress[0]} />
          <span className="muted small">{Math.round((100 * progress[0]) / (progress[1] || 1))}%</span>
        </label>
      )}
      <button type="submit" disabled={upload.isPending}>{upload.isPending ? "Uploading…" : "Upload"}</button>
      <ErrorMessage error={upload.error} prefix="Upload failed" />
      {done && (
        <p role="status" data-testid="upload-result">
          {done.version}: {done.status}{done.reason ? ` (${done.reason})` : ""}
        </p>
      )}
    </form>
  );
}
