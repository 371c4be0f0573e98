import type { ApiErrorBody } from "@/types/api";
import { getToken, setToken } from "./auth";

/** A non-2xx answer, with the API's message and the field it names. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  readonly body: ApiErrorBody | null;

  constructor(status: number, body: ApiErrorBody | null) {
    super(body?.message ?? `request failed with status ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = body?.error ?? "http_error";
    this.field = body?.field ?? undefined;
    this.body = body;
  }
}

export interface ApiResponse<T> {
  data: T;
  headers: Headers;
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

type Query = Record<string, string | number | boolean | null | undefined>;

function withQuery(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Call the operator API on the console's own origin with the signed-in operator's token. */
export async function request<T>(method: string, path: string,
  options: { body?: unknown; query?: Query; raw?: { body: Blob | string; contentType: string } } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = getToken();
  // Signed out (another tab, or the session ended): nothing to send, back to sign-in.
  if (!token) {
    setToken(null);
    throw new ApiError(401, { error: "unauthenticated", message: "signed out" });
  }
  headers.Authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.raw !== undefined) headers["Content-Type"] = options.raw.contentType;
  const response = await fetch(withQuery(path, options.query), {
    method,
    headers,
    body: options.raw?.body ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await response.text();
  const parsed = parseJson(text);
  if (!response.ok) {
    if (response.status === 401) setToken(null);
    const body = parsed && typeof parsed === "object" && "message" in parsed ? (parsed as ApiErrorBody) : null;
    throw new ApiError(response.status, body);
  }
  return { data: parsed as T, headers: response.headers };
}

export const api = {
  get: async <T>(path: string, query?: Query) => (await request<T>("GET", path, { query })).data,
  post: async <T>(path: string, body?: unknown) => (await request<T>("POST", path, { body })).data,
  put: async <T>(path: string, body?: unknown) => (await request<T>("PUT", path, { body })).data,
  patch: async <T>(path: string, body?: unknown) => (await request<T>("PATCH", path, { body })).data,
  delete: async <T>(path: string) => (await request<T>("DELETE", path)).data,
  /** POST a body that is not JSON (a CSV, JSON lines) as `contentType`. */
  upload: async <T>(path: string, body: Blob | string, contentType: string, query?: Query) =>
    (await request<T>("POST", path, { raw: { body, contentType }, query })).data,
};

/** Path segment for an id typed by an operator. */
export const seg = (id: string) => encodeURIComponent(id);

/** A human sentence for any error a query or mutation produced. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.field ? `${error.message}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
