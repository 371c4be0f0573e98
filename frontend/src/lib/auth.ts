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
  setToken(token);
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
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
