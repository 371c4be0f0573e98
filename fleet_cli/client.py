"""The HTTP client of the operator API: timeouts, retries, error bodies, paging."""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from fleet_cli import __version__
from fleet_cli.errors import ApiError, TransportError, UsageError

NEXT_TOKEN_HEADER = "X-Next-Token"
RETRY_STATUSES = (429, 502, 503, 504)
PAGE_SIZE = 100


def resource(*parts: str) -> str:
    """A URL path from segments, each escaped: an id can never reach another route ('a/b', '..', '?')."""
    return "".join("/" + _segment(p) for p in parts)


def _segment(value: str) -> str:
    if not value:
        # An empty id would name the listing instead ('/customer/devices/'): never a guess.
        raise UsageError("an id must not be empty")
    quoted = quote(value, safe="")
    # quote() keeps dots, and urllib3 would resolve a '.' or '..' segment.
    return quoted.replace(".", "%2E") if set(quoted) <= {"."} else quoted


def _session(retries: int, methods: frozenset[str]) -> requests.Session:
    # Connection failures are retried for every method (nothing was sent); answers like 503
    # only for methods that are safe to repeat.
    retry = Retry(total=retries, connect=retries, read=retries, status=retries, backoff_factor=0.3,
                  status_forcelist=RETRY_STATUSES, allowed_methods=methods, raise_on_status=False,
                  respect_retry_after_header=True)
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = f"fleet-cli/{__version__}"
    return session


class FleetClient:
    """The operator API at `base_url`, with a Bearer token."""

    def __init__(self, base_url: str, token: str | None, timeout: float = 15.0, retries: int = 3,
                 page_size: int = PAGE_SIZE) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.page_size = page_size
        idempotent = frozenset({"GET", "HEAD", "PUT", "DELETE"})
        self._safe = _session(retries, idempotent)
        # Creates that carry a client_token are replays on the server, so they may be retried too.
        self._replayable = _session(retries, idempotent | {"POST"})
        for session in (self._safe, self._replayable):
            if token:
                session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
                replayable: bool = False, data: bytes | None = None,
                content_type: str | None = None) -> requests.Response:
        """Send one request (a JSON `body`, or raw `data` of `content_type`); a 4xx/5xx raises ApiError."""
        session = self._replayable if replayable else self._safe
        query = {k: v for k, v in (params or {}).items() if v is not None}
        raw = {"data": data, "headers": {"Content-Type": content_type}} if data is not None else {"json": body}
        try:
            resp = session.request(method, self.base_url + path, params=query, timeout=self.timeout, **raw)
        except requests.Timeout as exc:
            raise TransportError(f"{method} {path}: no answer from {self.base_url} within {self.timeout:g}s") from exc
        except requests.RequestException as exc:
            raise TransportError(f"cannot reach {self.base_url}: {_reason(exc)}") from exc
        if resp.status_code >= 400:
            try:
                parsed: Any = resp.json()
            except ValueError:
                parsed = None
            raise ApiError(resp.status_code, parsed, resp.text)
        return resp

    def get(self, path: str, **params: Any) -> Any:
        """GET a JSON document."""
        return self.request("GET", path, params=params).json()

    def post(self, path: str, body: Any = None, *, replayable: bool = False) -> Any:
        """POST a JSON body, return the JSON answer."""
        return self.request("POST", path, body=body, replayable=replayable).json()

    def put(self, path: str, body: Any = None) -> Any:
        """PUT a JSON body, return the JSON answer."""
        return self.request("PUT", path, body=body).json()

    def patch(self, path: str, body: Any) -> Any:
        """PATCH a JSON body, return the JSON answer."""
        return self.request("PATCH", path, body=body).json()

    def delete(self, path: str) -> Any:
        """DELETE, return the JSON answer."""
        return self.request("DELETE", path).json()

    def pages(self, path: str, key: str, params: dict[str, Any] | None = None,
              page_size: int | None = None) -> Iterator[dict[str, Any]]:
        """Every page of an enveloped listing (`{key: [...], "next_token"}`), fetched as it is consumed."""
        query = {**(params or {}), "limit": page_size or self.page_size}
        while True:
            page = self.get(path, **query)
            yield page
            token = page.get("next_token")
            if not token or not page.get(key):
                return
            query["next_token"] = token

    def items(self, path: str, key: str, params: dict[str, Any] | None = None,
              limit: int | None = None) -> Iterator[Any]:
        """The items of an enveloped listing across pages, at most `limit` of them."""
        yield from _capped((item for page in self.pages(path, key, params, self._page_size(limit))
                            for item in page.get(key) or []), limit)

    def header_items(self, path: str, params: dict[str, Any] | None = None,
                     limit: int | None = None) -> Iterator[Any]:
        """The items of a bare-array listing whose cursor travels in the X-Next-Token header."""
        def all_items() -> Iterator[Any]:
            query = {**(params or {}), "limit": self._page_size(limit)}
            while True:
                resp = self.request("GET", path, params=query)
                batch = resp.json()
                yield from batch
                token = resp.headers.get(NEXT_TOKEN_HEADER)
                if not token or not batch:
                    return
                query["next_token"] = token

        yield from _capped(all_items(), limit)

    def _page_size(self, limit: int | None) -> int:
        return min(limit, self.page_size) if limit else self.page_size


def _capped(items: Iterator[Any], limit: int | None) -> Iterator[Any]:
    return itertools.islice(items, limit)


def _reason(exc: Exception) -> str:
    """The innermost cause (e.g. "[Errno 111] Connection refused"), not urllib3's whole chain."""
    cause: BaseException = exc
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
    return str(cause).split(": ", 1)[-1] if "Errno" in str(cause) else str(cause)
