import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api } from "@/lib/api-client";
import type { CommandOutcome, Page, SettledCommand } from "@/types/api";

/** One page of the tenant's commands that became final in the last `hours`, newest first. */
export function useSettledCommands(outcome: CommandOutcome | "", hours: number, token: string | null, limit = 50) {
  return useQuery({
    queryKey: ["commands", "settled", outcome, hours, token, limit],
    queryFn: () => api.get<Page<"commands", SettledCommand>>("/customer/commands",
      { outcome, hours, next_token: token, limit }),
    placeholderData: keepPreviousData,
  });
}
