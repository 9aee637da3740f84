// Customer domains (Cloudflare for SaaS custom hostnames): PUT, GET and DELETE
// /_edge/admin/containers/:id/hostnames/:host, and the Cron Trigger's refresh of hostnames still pending.
// Cloudflare holds the truth about verification and certificates; the container's ContainerState keeps the last
// answer and withholds the host from SITE_REGISTRY until the hostname is active (or the operator says live=now).
import * as v from "valibot";
import { containerStub } from "../../durable/container-state";
import { type HostnameRecord, isLive } from "../../durable/custom-hostname-table";
import { HostSchema } from "../../schemas/fields";
import { EdgeError } from "../shared/errors";
import { type CustomHostnamesApi, customHostnamesApi, missingSetting } from "./cloudflare-api";
import { goneRecord, recordFrom, removedRecord, stateOf } from "./custom-hostname-status";

type HostnameEnv = Pick<
  Env,
  "CF_API_TOKEN" | "CF_ZONE_ID" | "CF_API_BASE" | "SAAS_CNAME_TARGET" | "CONTAINER_STATE" | "SITE_REGISTRY" | "LOG_BUCKET"
>;

/**
 * Containers with a hostname still pending, as empty R2 objects under this prefix. Durable Objects cannot be
 * listed, and the cron must find the few containers to check without visiting every one.
 */
const PENDING_PREFIX = "custom-hostnames/pending/";
/** Containers the cron refreshes at once (each asks Cloudflare once per pending hostname). */
const REFRESH_CONCURRENCY = 4;

type HostnameView = ReturnType<typeof hostnameView>;

function hostnameView(containerId: string, record: HostnameRecord) {
  return { containerId, ...record, live: isLive(record) };
}

/** The :host path parameter: a whole host (a same-origin mount host/prefix cannot have a custom hostname). */
export function hostParam(raw: string | undefined): string {
  const host = decodeURIComponent(raw ?? "");
  if (host.includes("/")) {
    throw new EdgeError(
      400,
      "not_a_custom_hostname",
      `${host} is a same-origin mount (host/prefix); it is served by a Worker route on the shop's own zone, not by a custom hostname`,
    );
  }
  if (!v.is(HostSchema, host)) throw new EdgeError(400, "invalid_host", `host "${host}" must be a lower-case DNS name without port`);
  return host;
}

/** The PUT's `live` query parameter: `now` puts the host live before Cloudflare has verified it. */
export function liveNowParam(value: string | string[] | undefined): boolean {
  if (value === undefined) return false;
  if (value === "now") return true;
  throw new EdgeError(400, "invalid_query", 'query parameter live must be "now" or absent');
}

/** Creates (or adopts) the custom hostname at Cloudflare and records it; `created` when Cloudflare had none. */
export async function putHostname(
  env: HostnameEnv,
  containerId: string,
  host: string,
  liveNow: boolean,
): Promise<{ view: HostnameView; created: boolean }> {
  const api = customHostnamesApi(env);
  const stub = containerStub(env, containerId);
  const publicHosts = await stub.latestPublicHosts(containerId);
  if (publicHosts === null) throw new EdgeError(404, "not_found", `container ${containerId} has no config`);
  if (!publicHosts.includes(host)) {
    const mounts = publicHosts.filter((entry) => entry.startsWith(`${host}/`));
    throw new EdgeError(
      400,
      "not_a_public_host",
      mounts.length > 0
        ? `${host} is only used by same-origin mounts (${mounts.join(", ")}), which are not custom hostnames`
        : `${host} is not one of container ${containerId}'s public hosts; add it to publicHosts first`,
    );
  }
  const owner = await env.SITE_REGISTRY.get(host);
  if (owner !== null && owner !== containerId) throw new EdgeError(409, "host_conflict", `${host} belongs to container ${owner}`);

  const records = await stub.hostnames();
  const previous = records.find((record) => record.host === host) ?? null;
  let hostname = await api.find(host);
  const created = hostname === null;
  if (hostname === null) hostname = await api.create(host);
  else if (stateOf(hostname) !== "active") {
    // Sending the same SSL settings asks Cloudflare to validate again (and moves a hostname made elsewhere to TXT).
    hostname = await api.revalidate(hostname.id);
  }
  const record = recordFrom(hostname, { previous, liveNow, cnameTarget: env.SAAS_CNAME_TARGET, now: new Date().toISOString() });
  await save(env, containerId, records, record);
  return { view: hostnameView(containerId, record), created };
}

/** Asks Cloudflare for the hostname's current status, records it and answers it. */
export async function showHostname(env: HostnameEnv, containerId: string, host: string): Promise<HostnameView> {
  const api = customHostnamesApi(env);
  const records = await containerStub(env, containerId).hostnames();
  const record = await refresh(env, api, containerId, records, known(records, containerId, host));
  return hostnameView(containerId, record);
}

/** Deletes the custom hostname at Cloudflare; the host leaves SITE_REGISTRY and stays out until it is PUT again. */
export async function removeHostname(env: HostnameEnv, containerId: string, host: string): Promise<HostnameView> {
  const api = customHostnamesApi(env);
  const records = await containerStub(env, containerId).hostnames();
  const record = known(records, containerId, host);
  if (record.cloudflare) await api.remove(record.cloudflare.id);
  const removed = removedRecord(host, new Date().toISOString());
  await save(env, containerId, records, removed);
  return hostnameView(containerId, removed);
}

/** Containers with a hostname still pending (the cron's index; the alert check reads it too). */
export async function containersWithPendingHostnames(env: Pick<Env, "LOG_BUCKET">): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.LOG_BUCKET.list({ prefix: PENDING_PREFIX, cursor });
    ids.push(...page.objects.map((object) => object.key.slice(PENDING_PREFIX.length)));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return ids;
}

/**
 * For the control Worker's Cron Trigger: re-reads every pending hostname from Cloudflare, so a domain goes live
 * soon after its customer's DNS records are in place without anyone calling GET. Does nothing without the
 * Cloudflare settings (the local run).
 */
export async function refreshPendingHostnames(env: HostnameEnv): Promise<{ containers: number; checked: number; failed: number }> {
  const missing = missingSetting(env);
  if (missing) return { containers: 0, checked: 0, failed: 0 };
  const api = customHostnamesApi(env);
  const ids = await containersWithPendingHostnames(env);

  let checked = 0;
  let failed = 0;
  const queue = [...ids];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      try {
        let records = await containerStub(env, id).hostnames();
        for (const record of records.filter((r) => r.state === "pending")) {
          const next = await refresh(env, api, id, records, record);
          records = records.map((r) => (r.host === next.host ? next : r));
          checked++;
        }
        // A container without pending hostnames (e.g. its marker outlived a crash) stops being visited.
        if (!records.some((r) => r.state === "pending")) await env.LOG_BUCKET.delete(`${PENDING_PREFIX}${id}`);
      } catch (error) {
        failed++;
        const code = error instanceof EdgeError ? error.code : "internal_error";
        console.error(
          JSON.stringify({
            event: "hostname_refresh_failed",
            containerId: id,
            code,
            message: error instanceof Error ? error.message : String(error),
          }),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(REFRESH_CONCURRENCY, ids.length) }, worker));
  console.log(JSON.stringify({ event: "hostname_refresh", containers: ids.length, checked, failed }));
  return { containers: ids.length, checked, failed };
}

function known(records: HostnameRecord[], containerId: string, host: string): HostnameRecord {
  const record = records.find((r) => r.host === host);
  if (!record) throw new EdgeError(404, "not_found", `container ${containerId} has no custom hostname ${host}`);
  if (record.state === "removed") {
    throw new EdgeError(404, "not_found", `custom hostname ${host} was removed; the host stays off SITE_REGISTRY until it is PUT again`);
  }
  return record;
}

async function refresh(
  env: HostnameEnv,
  api: CustomHostnamesApi,
  containerId: string,
  records: HostnameRecord[],
  record: HostnameRecord,
): Promise<HostnameRecord> {
  const now = new Date().toISOString();
  const hostname = record.cloudflare ? await api.get(record.cloudflare.id) : null;
  const next = hostname
    ? recordFrom(hostname, { previous: record, liveNow: record.liveNow, cnameTarget: env.SAAS_CNAME_TARGET, now })
    : goneRecord(record, now);
  await save(env, containerId, records, next);
  if (next.state !== record.state) {
    console.log(JSON.stringify({ event: "hostname_state", containerId, host: next.host, from: record.state, to: next.state }));
  }
  return next;
}

/** Records `next` in the container's object (which re-syncs KV) and keeps the cron's pending marker in step. */
async function save(env: HostnameEnv, containerId: string, records: HostnameRecord[], next: HostnameRecord): Promise<void> {
  await containerStub(env, containerId).saveHostname(containerId, next);
  const others = records.filter((r) => r.host !== next.host);
  const wasPending = records.some((r) => r.state === "pending");
  const isPending = next.state === "pending" || others.some((r) => r.state === "pending");
  if (isPending && !wasPending) await env.LOG_BUCKET.put(`${PENDING_PREFIX}${containerId}`, "");
  if (!isPending && wasPending) await env.LOG_BUCKET.delete(`${PENDING_PREFIX}${containerId}`);
}
