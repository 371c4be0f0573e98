import { useState } from "react";

/** Cursor paging: remembers the tokens of the pages already seen so "Previous" works. */
export function usePager() {
  const [tokens, setTokens] = useState<(string | null)[]>([null]);
  const current = tokens[tokens.length - 1] ?? null;
  return {
    token: current,
    page: tokens.length,
    next: (token: string) => setTokens((seen) => [...seen, token]),
    previous: () => setTokens((seen) => (seen.length > 1 ? seen.slice(0, -1) : seen)),
    reset: () => setTokens([null]),
  };
}

export function Pager({ pager, nextToken }: { pager: ReturnType<typeof usePager>; nextToken: string | null | undefined }) {
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" onClick={pager.previous} disabled={pager.page <= 1}>
        Previous page
      </button>
      <span className="muted">Page {pager.page}</span>
      <button type="button" onClick={() => nextToken && pager.next(nextToken)} disabled={!nextToken}>
        Next page
      </button>
    </nav>
  );
}
