import { useId, type ReactNode } from "react";

interface FieldProps {
  label: string;
  error?: string | null;
  hint?: string;
  children: (props: { id: string; "aria-invalid": boolean; "aria-describedby"?: string }) => ReactNode;
}

/** A labelled form control with its hint and validation message wired for assistive tech. */
export function Field({ label, error, hint, children }: FieldProps) {
  const id = useId();
  const noteId = `${id}-note`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, "aria-invalid": Boolean(error), "aria-describedby": error || hint ? noteId : undefined })}
      {error ? (
        <span id={noteId} className="field-error" role="alert">
          {error}
        </span>
      ) : (
        hint && (
          <span id={noteId} className="muted small">
            {hint}
          </span>
        )
      )}
    </div>
  );
}
