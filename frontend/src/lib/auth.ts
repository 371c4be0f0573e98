// The operator's bearer token lives in sessionStorage only (gone with the tab).
// The local stack's console_url carries it in the URL fragment (`#token=...`): a fragment
// never reaches a server, so it is not in any access log; it is removed from the address
// bar as soon as it has been read.

const KEY = "fleet.operator_token";
const listeners = new Set<() => void>();

export interface TokenClaims {
  tenant_id?: string;
  sub?: string;
  exp?: number;
}

export function adoptTokenFromFragment(): void {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  const token = params.get("token");
  if (!token) return;
  // The token leaves the address bar (and the history) whatever happens next.
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  const current = getToken();
  const from = readClaims(current)?.tenant_id;
  const to = readClaims(token)?.tenant_id;
  // A link must not silently sign the operator in to another tenant (a forged login would
  // make them act on the link owner's fleet): switching tenants is asked, never assumed.
  if (current && current !== token && from !== to) {
    const ok = window.confirm(`This link signs you in to tenant "${to ?? "?"}" instead of "${from ?? "?"}". Switch?`);
    if (!ok) return;
  }
  setToken(token);
}

export function getToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(KEY, token.trim());
  else sessionStorage.removeItem(KEY);
  listeners.forEach((notify) => notify());
}

export function subscribeToken(notify: () => void): () => void {
  listeners.add(notify);
  return () => listeners.delete(notify);
}

/** The token's claims, read without verification (the API verifies it). */
export function readClaims(token: string | null): TokenClaims | null {
  const part = token?.split(".")[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(json) as TokenClaims;
  } catch {
    return null;
  }
}
