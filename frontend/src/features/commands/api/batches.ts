import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";
import { api, seg } from "@/lib/api-client";
import type { BatchView, CommandBatch, CreateCommand } from "@/types/api";

export type BatchTargetPath = "groups" | "sites";

/** One command to every enabled member of a group or site: answers the batch to follow. */
export function useSendBatch(target: BatchTargetPath, targetId: string) {
  return useMutation({
    mutationFn: (body: CreateCommand) => api.post<CommandBatch>(`/customer/${target}/${seg(targetId)}/commands`, body),
  });
}

/** Each read counts the whole batch (its index, 1 MB a page): a small batch is polled every second, a large one less often. */
function pollMs(b: BatchView): number {
  return Math.min(30_000, Math.max(1000, (b.targeted ?? 0) * 2));
}

/** A batch's counts and a page of its commands, polled until every command is final. */
export function useBatch(batchId: string, token: string | null) {
  return useQuery({
    queryKey: ["command-batches", batchId, token],
    queryFn: () => api.get<BatchView>(`/customer/command-batches/${seg(batchId)}`, { next_token: token, limit: 50 }),
    placeholderData: keepPreviousData,
    refetchInterval: (query) => {
      const b = query.state.data;
      return b && (b.status === "sending" || (b.counts.queued ?? 0) > 0) ? pollMs(b) : false;
    },
  });
}
