// Custom-hostname states for the alert check (customer domains, docs/custom-domains.md). A source answers every
// hostname it knows with its status, or null when there is no hostname data (custom hostnames are not configured):
// then the check is skipped and neither raises nor resolves anything.
import type { HostnameObservation } from "../../durable/alert-state";
import { containerStub } from "../../durable/container-state";
import { isLive } from "../../durable/custom-hostname-table";
import { missingSetting } from "../admin/cloudflare-api";
import { containersWithPendingHostnames } from "../admin/custom-hostnames";

/** `alsoContainers`: containers with a hostname alert open or pending, which must be looked at again to resolve it. */
export type HostnameSource = (env: Env, alsoContainers: readonly string[]) => Promise<HostnameObservation[] | null>;

/**
 * The hostnames of every container with one still pending at Cloudflare (the refresh cron's own index, one R2
 * listing), and of the containers the alerts already know about, as each container's object last recorded them.
 * A hostname that is live (active, or put live by the operator) counts as active.
 */
export const customHostnameSource: HostnameSource = async (env, alsoContainers) => {
  if (missingSetting(env) !== null) return null;
  const ids = new Set([...(await containersWithPendingHostnames(env)), ...alsoContainers]);
  const perContainer = await Promise.all(
    [...ids].map(async (containerId) =>
      (await containerStub(env, containerId).hostnames()).map((record) => ({
        containerId,
        hostname: record.host,
        status: isLive(record) ? "active" : record.state,
      })),
    ),
  );
  return perContainer.flat();
};
