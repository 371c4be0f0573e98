import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, seg } from "@/lib/api-client";
import type { Certificate, CertificateStatus, CreatedCertificate, Page } from "@/types/api";

const path = (deviceId: string) => `/customer/devices/${seg(deviceId)}/certificates`;

export function useCertificates(deviceId: string) {
  return useQuery({
    queryKey: ["certificates", deviceId],
    queryFn: () => api.get<Page<"certificates", Certificate>>(path(deviceId), { limit: 100 }),
    refetchInterval: 15000,
  });
}

function useCertificateMutation<A, R>(deviceId: string, fn: (arg: A) => Promise<R>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => client.invalidateQueries({ queryKey: ["certificates", deviceId] }),
  });
}

/** A certificate with a key pair the server makes: the private key is in this answer only. */
export const useCreateCertificate = (deviceId: string) =>
  useCertificateMutation(deviceId, () => api.post<CreatedCertificate>(path(deviceId), {}));

export const useSetCertificateStatus = (deviceId: string) =>
  useCertificateMutation(deviceId, ({ id, status }: { id: string; status: CertificateStatus }) =>
    api.patch<Certificate>(`${path(deviceId)}/${seg(id)}`, { status }));

export const useDeleteCertificate = (deviceId: string) =>
  useCertificateMutation(deviceId, (id: string) => api.delete<unknown>(`${path(deviceId)}/${seg(id)}`));
