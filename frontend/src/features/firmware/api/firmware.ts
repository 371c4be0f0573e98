import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, seg } from "@/lib/api-client";
import type { CreateJob, Firmware, Group, Job, Page, UploadTicket, VersionCounts } from "@/types/api";

export function useFirmwareList(token: string | null, limit = 20) {
  return useQuery({
    queryKey: ["firmware", "list", token, limit],
    queryFn: () => api.get<Page<"firmware", Firmware>>("/customer/firmware", { next_token: token, limit }),
    placeholderData: keepPreviousData,
  });
}

/** Devices per reported version, in the fleet or one group; refreshed while a rollout may move them. */
export function useVersions(groupId: string) {
  return useQuery({
    queryKey: ["firmware", "versions", groupId],
    queryFn: () => api.get<VersionCounts>("/customer/firmware-versions", { group_id: groupId || undefined }),
    refetchInterval: 3000,
  });
}

export function useGroups() {
  return useQuery({
    queryKey: ["firmware", "groups"],
    queryFn: () => api.get<Page<"groups", Group>>("/customer/groups", { limit: 100 }),
  });
}

export async function sha256Hex(file: Blob): Promise<string | null> {
  // Web Crypto exists on secure origins only (https, localhost); elsewhere the platform's digest is enough.
  if (!globalThis.crypto?.subtle) return null;
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** PUT the file to its presigned URL, reporting the bytes sent. */
function put(ticket: UploadTicket, file: Blob, onProgress: (sent: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(ticket.upload_method ?? "PUT", ticket.upload_url);
    for (const [name, value] of Object.entries(ticket.upload_headers ?? {})) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new Error(`the storage refused the upload (HTTP ${xhr.status})`)));
    xhr.onerror = () => reject(new Error("the upload could not reach the storage"));
    xhr.send(file);
  });
}

export interface UploadInput {
  file: File;
  version: string;
  deviceModel: string;
  notes: string;
}

/** Create the artifact, upload the image with progress, then let the platform measure it. */
export function useUpload(onProgress: (sent: number, total: number) => void) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ file, version, deviceModel, notes }: UploadInput) => {
      const sha256 = await sha256Hex(file);
      const ticket = await api.post<UploadTicket>("/customer/firmware", {
        version, device_model: deviceModel, notes: notes || null, size_bytes: file.size, sha256,
      });
      await put(ticket, file, (sent) => onProgress(sent, file.size));
      return api.post<Firmware>(`/customer/firmware/${seg(ticket.firmware.firmware_id)}/complete`);
    },
    onSettled: () => client.invalidateQueries({ queryKey: ["firmware"] }),
  });
}

export function useRollout() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateJob) => api.post<Job>("/customer/jobs", body),
    onSuccess: () => client.invalidateQueries({ queryKey: ["firmware"] }),
  });
}

export function useDeleteFirmware() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (firmwareId: string) => api.delete<unknown>(`/customer/firmware/${seg(firmwareId)}`),
    onSuccess: () => client.invalidateQueries({ queryKey: ["firmware"] }),
  });
}
