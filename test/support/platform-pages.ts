// Helpers for browser tests against the whole local platform (scripts/platform.mjs): containers PUT through the
// operator API and waited for, and the loader's /boot answer on a page view.
import { expect } from "vitest";
import { DEV_ADMIN_TOKEN } from "../../scripts/platform.mjs";

const ADMIN_HEADERS = { Authorization: `Bearer ${DEV_ADMIN_TOKEN}`, "Content-Type": "application/json" };

export interface BootAnswer {
  restoreCookies: { name: string; value: string; maxAge: number }[];
  sessionId: string;
}

/** Polls `check` until it returns a value; fails with `what` (and `context()`, e.g. the Worker's output) after `timeoutMs`. */
export async function pollUntil<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string, context = () => ""): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await check();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms\n${context()}`);
}

/** Waits until the container's `version` is applied (live traffic then sees it once its config cache expires). */
export async function waitInSync(workerUrl: string, containerId: string, version: number): Promise<void> {
  await pollUntil(
    async () => {
      const res = await fetch(`${workerUrl}/_edge/admin/containers/${containerId}/status`, { headers: ADMIN_HEADERS });
      const status = res.ok ? ((await res.json()) as { inSync: boolean; appliedVersion: number }) : null;
      return status?.inSync && status.appliedVersion >= version ? true : undefined;
    },
    20_000,
    `${containerId} v${version} in sync`,
  );
}

/** PUTs a container through the operator API and waits until it is applied. */
export async function putAndWait(workerUrl: string, config: { containerId: string; version: number }): Promise<void> {
  const put = await fetch(`${workerUrl}/_edge/admin/containers/${config.containerId}`, {
    method: "PUT",
    headers: ADMIN_HEADERS,
    body: JSON.stringify(config),
  });
  expect(put.status, await put.clone().text()).toBe(202);
  await waitInSync(workerUrl, config.containerId, config.version);
}
