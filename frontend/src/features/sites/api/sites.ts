import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, seg } from "@/lib/api-client";
import type { CreateSite, Device, Page, Site, SiteUpdated, UpdateSite } from "@/types/api";

export function useSites(token: string | null, limit = 20) {
  return useQuery({
    queryKey: ["sites", "list", token, limit],
    queryFn: () => api.get<Page<"sites", Site>>("/customer/sites", { next_token: token, limit }),
    placeholderData: keepPreviousData,
  });
}

export function useSite(siteId: string) {
  return useQuery({
    queryKey: ["sites", "one", siteId],
    queryFn: () => api.get<Site>(`/customer/sites/${seg(siteId)}`),
    refetchInterval: (query) => (query.state.data?.schedule_fanout_pending ? 2000 : false),
  });
}

export function useSiteDevices(siteId: string, token: string | null) {
  return useQuery({
    queryKey: ["sites", "devices", siteId, token],
    queryFn: () => api.get<Page<"devices", Device>>("/customer/devices", { site_id: siteId, next_token: token, limit: 50 }),
    placeholderData: keepPreviousData,
  });
}

export function useCreateSite() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateSite) => api.post<Site>("/customer/sites", body),
    onSuccess: () => client.invalidateQueries({ queryKey: ["sites"] }),
  });
}

export function useUpdateSite(siteId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: UpdateSite) =>
      api.patch<SiteUpdated>(`/customer/sites/${seg(siteId)}`, body),
    onSuccess: () => client.invalidateQueries({ queryKey: ["sites"] }),
  });
}
