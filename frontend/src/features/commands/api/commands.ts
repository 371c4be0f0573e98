import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, request, seg } from "@/lib/api-client";
import type { Command, CommandStatus, CreateCommand } from "@/types/api";

export interface CommandPage {
  commands: Command[];
  nextToken: string | null;
}

const historyKey = (deviceId: string) => ["commands", deviceId] as const;

/** One page of a device's command history, newest first (the cursor is the X-Next-Token header). */
export async function listCommands(deviceId: string, status: CommandStatus | "", token: string | null,
  limit = 20): Promise<CommandPage> {
  const { data, headers } = await request<Command[]>("GET", `/customer/devices/${seg(deviceId)}/commands`, {
    query: { status, next_token: token, limit },
  });
  return { commands: data, nextToken: headers.get("X-Next-Token") };
}

/** The history, polled every second while a shown command is still queued. */
export function useCommandHistory(deviceId: string, status: CommandStatus | "", token: string | null) {
  return useQuery({
    queryKey: [...historyKey(deviceId), status, token],
    queryFn: () => listCommands(deviceId, status, token),
    placeholderData: keepPreviousData,
    refetchInterval: (query) =>
      query.state.data?.commands.some((c) => (c.status ?? "queued") === "queued") ? 1000 : false,
  });
}

export function useSendCommand(deviceId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateCommand) => api.post<Command>(`/customer/devices/${seg(deviceId)}/commands`, body),
    onSuccess: () => client.invalidateQueries({ queryKey: historyKey(deviceId) }),
  });
}
