// Custom-hostname states for the alert check. The hostname onboarding (Cloudflare for SaaS custom hostnames)
// is built separately; until it supplies a source, there is no hostname data and the check is skipped (it never
// resolves or raises anything). A source answers null for "no data", or every hostname with its status.
import type { HostnameState } from "../../durable/alert-state";

export type HostnameSource = (env: Env) => Promise<HostnameState[] | null>;

export const noHostnameSource: HostnameSource = async () => null;
