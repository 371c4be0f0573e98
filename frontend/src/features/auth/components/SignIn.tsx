import { useState, type FormEvent } from "react";
import { readClaims, setToken } from "@/lib/auth";

/** Paste an operator token (from `make token`, the stack banner, or your identity provider). */
export function SignIn() {
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  function submit(event: FormEvent) {
    event.preventDefault();
    const claims = readClaims(value.trim());
    if (!claims) return setError("This is not a JWT (three base64url parts separated by dots).");
    if (claims.exp && claims.exp * 1000 < Date.now()) return setError("This token has expired.");
    setToken(value.trim());
  }
  return (
    <main className="signin">
      <h1>Fleet console</h1>
      <form onSubmit={submit} className="stack" aria-label="Sign in">
        <label htmlFor="token">Operator token</label>
        <textarea id="token" rows={4} value={value} onChange={(e) => setValue(e.target.value)} aria-invalid={Boolean(error)}
          aria-describedby="token-help" autoComplete="off" spellCheck={false} />
        <p id="token-help" className="muted small">
          Locally, open the console_url that <code>make run</code> prints (it signs you in), or paste the output of <code>make token</code>.
          Elsewhere, paste a token from your identity provider. It is kept for this tab only.
        </p>
        {error && <p role="alert" className="error">{error}</p>}
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
