// Helpers for driving the config pipeline over HTTP, from either Worker's tests: in the control project the
// request reaches the control Worker directly, in the edge project it goes through the edge's operator-host check
// and service binding to the real control Worker.
import { exports } from "cloudflare:workers";
import { vi } from "vitest";
import type { EdgeConfigInput } from "../../schemas/edge-config";
import type { ContainerStatus } from "../../schemas/responses";
import { ADMIN } from "./fixtures";

/** An operator host of the local run (OPERATOR_HOSTS). */
export const OPERATOR_ORIGIN = "http://localhost";

export function admin(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(`${OPERATOR_ORIGIN}${path}`, {
    ...init,
    headers: { ...ADMIN, "Content-Type": "application/json", ...(init.headers ?? {}) },
  });
}

export function putConfig(config: EdgeConfigInput): Promise<Response> {
  return admin(`/_edge/admin/containers/${config.containerId}`, { method: "PUT", body: JSON.stringify(config) });
}

export async function statusOf(containerId: string): Promise<ContainerStatus | null> {
  const res = await admin(`/_edge/admin/containers/${containerId}/status`);
  if (res.status === 404) return null;
  return (await res.json()) as ContainerStatus;
}

/** Waits until the real queue has delivered and the object reports `version` applied. */
export async function waitApplied(containerId: string, version: number): Promise<ContainerStatus> {
  return vi.waitFor(
    async () => {
      const status = await statusOf(containerId);
      if (!status || status.appliedVersion !== version || !status.inSync) {
        throw new Error(`not yet: ${JSON.stringify(status)}`);
      }
      return status;
    },
    { timeout: 15_000, interval: 100 },
  );
}
