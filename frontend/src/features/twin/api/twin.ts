import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, seg } from "@/lib/api-client";
import type { PatchDesired, TwinPatched, TwinView } from "@/types/api";

const twinKey = (deviceId: string) => ["twin", deviceId] as const;

/** The twin, polled every second while it is pending and every 10 s otherwise. */
export function useTwin(deviceId: string) {
  return useQuery({
    queryKey: twinKey(deviceId),
    queryFn: () => api.get<TwinView>(`/customer/devices/${seg(deviceId)}/twin`),
    refetchInterval: (query) => (query.state.data?.sync_status === "pending" ? 1000 : 10000),
  });
}

export function usePatchDesired(deviceId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: PatchDesired) =>
      api.patch<TwinPatched>(`/customer/devices/${seg(deviceId)}/twin/desired`, body),
    onSuccess: (view) => client.setQueryData(twinKey(deviceId), view),
  });
}

type Json = unknown;

const isObject = (v: Json): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The RFC 7386 merge patch that turns `before` into `after` (null deletes a key). */
export function mergePatch(before: Record<string, Json>, after: Record<string, Json>): Record<string, Json> {
  const patch: Record<string, Json> = {};
  for (const key of Object.keys(before)) {
    if (!(key in after)) patch[key] = null;
  }
  for (const [key, value] of Object.entries(after)) {
    const old = before[key];
    if (isObject(old) && isObject(value)) {
      const inner = mergePatch(old, value);
      if (Object.keys(inner).length) patch[key] = inner;
    } else if (JSON.stringify(old) !== JSON.stringify(value)) {
      patch[key] = value;
    }
  }
  return patch;
}
