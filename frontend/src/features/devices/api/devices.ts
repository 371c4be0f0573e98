import { keepPreviousData, useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, seg } from "@/lib/api-client";
import type {
  CreateDevice, CreatedDevice, Device, DeviceStatus, GroupDetail, Group, MappedDevice, Page, PresenceFilter, Site,
  TwinView,
} from "@/types/api";

export interface DeviceFilters {
  status: DeviceStatus | "";
  site_id: string;
  group_id: string;
  /** A last-seen bucket; combines with no other filter. */
  presence: PresenceFilter | "";
  /** "pending": twins whose reported version is behind desired; combines with no other filter. */
  twin: "pending" | "";
}

export function useDevices(filters: DeviceFilters, token: string | null, limit = 20) {
  return useQuery({
    queryKey: ["devices", "list", filters, token, limit],
    queryFn: () => api.get<Page<"devices", Device>>("/customer/devices", { ...filters, next_token: token, limit }),
    placeholderData: keepPreviousData,
    refetchInterval: 15000,
  });
}

export function useDevice(deviceId: string) {
  return useQuery({
    queryKey: ["devices", "one", deviceId],
    queryFn: () => api.get<Device>(`/customer/devices/${seg(deviceId)}`),
    refetchInterval: 10000,
  });
}

/** The twin sync status of each listed device (one GetItem each; a page is at most 20 rows). */
export function useSyncStatuses(deviceIds: string[]) {
  const results = useQueries({
    queries: deviceIds.map((id) => ({
      queryKey: ["devices", "sync", id],
      queryFn: () => api.get<TwinView>(`/customer/devices/${seg(id)}/twin`),
      staleTime: 5000,
      refetchInterval: 15000,
    })),
  });
  return Object.fromEntries(deviceIds.map((id, i) => [id, results[i]?.data?.sync_status]));
}

/**
 * Which groups each device belongs to. The registry keeps membership on the group, so this
 * reads the first groups and their members: fine for a console's overview, bounded in cost.
 */
export function useGroupMembership(maxGroups = 25) {
  const groups = useQuery({
    queryKey: ["devices", "groups"],
    queryFn: () => api.get<Page<"groups", Group>>("/customer/groups", { limit: maxGroups }),
  });
  const details = useQueries({
    queries: (groups.data?.groups ?? []).map((g) => ({
      queryKey: ["devices", "group-members", g.group_id],
      queryFn: () => api.get<GroupDetail>(`/customer/groups/${seg(g.group_id)}`, { limit: 1000 }),
      staleTime: 30000,
    })),
  });
  const byDevice: Record<string, string[]> = {};
  for (const detail of details) {
    for (const member of detail.data?.members ?? []) {
      (byDevice[member] ??= []).push(detail.data?.group_id ?? "");
    }
  }
  return { groups: groups.data?.groups ?? [], byDevice };
}

export function useSiteChoices() {
  return useQuery({
    queryKey: ["devices", "site-choices"],
    queryFn: () => api.get<Page<"sites", Site>>("/customer/sites", { limit: 100 }),
  });
}

function useDeviceMutation<A, R>(fn: (arg: A) => Promise<R>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => client.invalidateQueries({ queryKey: ["devices"] }),
  });
}

export const useRegisterDevice = () =>
  useDeviceMutation((body: CreateDevice) => api.post<CreatedDevice>("/customer/devices", body));

export const useSetEnabled = () =>
  useDeviceMutation(({ deviceId, enabled }: { deviceId: string; enabled: boolean }) =>
    api.post<Device>(`/customer/devices/${seg(deviceId)}/${enabled ? "enable" : "disable"}`));

export const useMapDevice = () =>
  useDeviceMutation(({ deviceId, siteId }: { deviceId: string; siteId: string }) =>
    api.put<MappedDevice>(`/customer/devices/${seg(deviceId)}/site`, { site_id: siteId }));

export const useUnmapDevice = () =>
  useDeviceMutation((deviceId: string) => api.delete<Device>(`/customer/devices/${seg(deviceId)}/site`));
