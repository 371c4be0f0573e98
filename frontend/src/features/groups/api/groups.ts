import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, seg } from "@/lib/api-client";
import type { CreateGroup, Group, GroupDetail, Page } from "@/types/api";

export function useGroups(token: string | null) {
  return useQuery({
    queryKey: ["groups", "list", token],
    queryFn: () => api.get<Page<"groups", Group>>("/customer/groups", { next_token: token, limit: 20 }),
    placeholderData: keepPreviousData,
  });
}

export function useGroup(groupId: string, token: string | null) {
  return useQuery({
    queryKey: ["groups", "one", groupId, token],
    queryFn: () => api.get<GroupDetail>(`/customer/groups/${seg(groupId)}`, { next_token: token, limit: 50 }),
    placeholderData: keepPreviousData,
  });
}

function useGroupMutation<A, R>(fn: (arg: A) => Promise<R>) {
  const client = useQueryClient();
  return useMutation({ mutationFn: fn, onSuccess: () => client.invalidateQueries({ queryKey: ["groups"] }) });
}

export const useCreateGroup = () => useGroupMutation((body: CreateGroup) => api.post<Group>("/customer/groups", body));

export const useAddMember = (groupId: string) =>
  useGroupMutation((deviceId: string) => api.put(`/customer/groups/${seg(groupId)}/members/${seg(deviceId)}`));

export const useRemoveMember = (groupId: string) =>
  useGroupMutation((deviceId: string) => api.delete(`/customer/groups/${seg(groupId)}/members/${seg(deviceId)}`));
