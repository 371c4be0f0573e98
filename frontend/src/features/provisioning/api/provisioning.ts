import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, seg } from "@/lib/api-client";
import { downloadText } from "@/lib/download";
import type { CertificateStatus, ClaimCertificate, CreatedClaimCertificate, Page, ProvisioningTemplate } from "@/types/api";

const TEMPLATES = "/customer/provisioning-templates";
const claimsPath = (template: string) => `${TEMPLATES}/${seg(template)}/claim-certificates`;

export function useTemplates(token: string | null) {
  return useQuery({
    queryKey: ["provisioning", "templates", token],
    queryFn: () => api.get<Page<"templates", ProvisioningTemplate>>(TEMPLATES, { limit: 50, next_token: token }),
    placeholderData: keepPreviousData,
  });
}

export function useTemplate(template: string) {
  return useQuery({
    queryKey: ["provisioning", "template", template],
    queryFn: () => api.get<ProvisioningTemplate>(`${TEMPLATES}/${seg(template)}`),
    refetchInterval: 15000,
  });
}

export function useClaims(template: string, token: string | null, limit = 20) {
  return useQuery({
    queryKey: ["provisioning", "claims", template, token, limit],
    queryFn: () => api.get<Page<"claim_certificates", ClaimCertificate>>(claimsPath(template),
      { limit, next_token: token }),
    placeholderData: keepPreviousData,
    refetchInterval: 15000,
  });
}

/** What the page keeps of a new claim: never its PEMs. */
export interface IssuedClaim {
  certificate_id: string;
  not_after: string;
  files: string[];
}

/**
 * Issue a claim and download its certificate and key at once. The key is in the API's answer only:
 * it goes to the file and is dropped here, so it never reaches React state or the query cache.
 */
export function useIssueClaim(template: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (): Promise<IssuedClaim> => {
      const made = await api.post<CreatedClaimCertificate>(claimsPath(template), {});
      const files = [`claim-${template}.cert.pem`, `claim-${template}.key.pem`];
      downloadText(files[0] ?? "", made.certificate_pem);
      downloadText(files[1] ?? "", made.private_key_pem);
      return { certificate_id: made.certificate_id, not_after: made.not_after, files };
    },
    onSuccess: () => client.invalidateQueries({ queryKey: ["provisioning", "claims", template] }),
  });
}

export function useSetClaimStatus(template: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, status }: { id: string; status: CertificateStatus }) =>
      api.patch<ClaimCertificate>(`${claimsPath(template)}/${seg(id)}`, { status }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["provisioning", "claims", template] }),
  });
}
