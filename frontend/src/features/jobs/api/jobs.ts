import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, seg } from "@/lib/api-client";
import type { CreateJob, Group, Job, JobDetail, JobStatus, Page } from "@/types/api";

export function useJobs(status: JobStatus | "", token: string | null, limit = 20) {
  return useQuery({
    queryKey: ["jobs", "list", status, token, limit],
    queryFn: () => api.get<Page<"jobs", Job>>("/customer/jobs", { status, next_token: token, limit }),
    placeholderData: keepPreviousData,
    refetchInterval: (query) => (query.state.data?.jobs.some((j) => j.status === "IN_PROGRESS") ? 2000 : false),
  });
}

/** A job with one page of executions, polled every second while it is in progress. */
export function useJob(jobId: string, token: string | null) {
  return useQuery({
    queryKey: ["jobs", "detail", jobId, token],
    queryFn: () => api.get<JobDetail>(`/customer/jobs/${seg(jobId)}`, { next_token: token }),
    placeholderData: keepPreviousData,
    refetchInterval: (query) =>
      query.state.data?.status === "IN_PROGRESS" || query.state.data?.sweep_pending ? 1000 : false,
  });
}

export function useCreateJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateJob) => api.post<Job>("/customer/jobs", body),
    onSuccess: () => client.invalidateQueries({ queryKey: ["jobs"] }),
  });
}

export function useCancelJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (jobId: string) => api.delete<Job>(`/customer/jobs/${seg(jobId)}`),
    onSuccess: () => client.invalidateQueries({ queryKey: ["jobs"] }),
  });
}

/** Group choices of the create dialog (the first page is enough to pick from; typing works too). */
export function useGroupChoices() {
  return useQuery({
    queryKey: ["jobs", "group-choices"],
    queryFn: () => api.get<Page<"groups", Group>>("/customer/groups", { limit: 100 }),
  });
}
