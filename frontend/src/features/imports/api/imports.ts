import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";
import { api, seg } from "@/lib/api-client";
import type { DeviceImport, ImportCredentials, ImportPage, ImportView, RowOutcome } from "@/types/api";

const TYPES: Record<string, string> = { csv: "text/csv", jsonl: "application/x-ndjson", ndjson: "application/x-ndjson" };

/** The Content-Type of an import file from its name, or null when the API takes no such file. */
export function importType(fileName: string): string | null {
  const extension = fileName.split(".").pop()?.toLowerCase() ?? "";
  return TYPES[extension] ?? null;
}

/** Upload a CSV or JSON lines file; answers the import to follow. */
export function useStartImport() {
  return useMutation({
    mutationFn: ({ file, contentType }: { file: File; contentType: string }) =>
      api.upload<DeviceImport>("/customer/device-imports", file, contentType),
  });
}

/** The tenant's imports, newest first. */
export function useImports() {
  return useQuery({
    queryKey: ["device-imports"],
    queryFn: () => api.get<ImportPage>("/customer/device-imports", { limit: 20 }),
  });
}

/** An import's counts and a page of its rows' results, polled every second while it runs. */
export function useImport(importId: string, outcome: RowOutcome | null, token: string | null) {
  return useQuery({
    queryKey: ["device-imports", importId, outcome, token],
    queryFn: () => api.get<ImportView>(`/customer/device-imports/${seg(importId)}`,
      { outcome, next_token: token, limit: 50 }),
    placeholderData: keepPreviousData,
    refetchInterval: (query) => (query.state.data?.status === "running" ? 1000 : false),
  });
}

/** The created devices' tokens: the API gives them once, so they are saved as a file at once. */
export function useDownloadCredentials(importId: string) {
  return useMutation({
    mutationFn: () => api.post<ImportCredentials>(`/customer/device-imports/${seg(importId)}/credentials`),
  });
}
