// Builders for test data shared by the Workers-runtime tests.
import type { EdgeConfigInput } from "../../schemas/edge-config";

export const ADMIN = { Authorization: "Bearer test-admin-token" };

export function edgeConfig(overrides: Partial<EdgeConfigInput> = {}): EdgeConfigInput {
  const id = overrides.containerId ?? "shop1";
  return {
    containerId: id,
    version: 1,
    upstream: "https://sgtm.shop1.example",
    infraHosts: [`${id}.edge.example`],
    publicHosts: [`ss.${id}.example`],
    loaderToken: `lt_${id}_token`,
    gtmId: "GTM-ABC123",
    allowedOrigins: [`https://www.${id}.example`],
    entitlements: ["cookie_restoration", "adblock_detection"],
    modules: {
      cookieKeeper: { enabled: true, cookies: ["_ga", "_ga_*", "_fbp", "FPID"], maxAgeDays: 395, httpOnly: ["FPID"] },
      cookieRestoration: { enabled: true },
      adblockDetection: { enabled: true },
    },
    ...overrides,
  };
}
