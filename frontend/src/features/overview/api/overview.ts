import { useQuery } from "@tanstack/react-query";
import { api } from "@/lib/api-client";
import type { Overview } from "@/types/api";

/** The fleet at a glance: one request, refreshed every 10 s while the page is open. */
export function useOverview() {
  return useQuery({
    queryKey: ["overview"],
    queryFn: () => api.get<Overview>("/customer/overview"),
    refetchInterval: 10000,
  });
}
