// Customer domains (Cloudflare for SaaS custom hostnames): PUT, GET and DELETE
// /_edge/admin/containers/:id/hostnames/:host, and the Cron Trigger's refresh of hostnames still pending.
// Cloudflare holds the truth about verification and certificates; the container's ContainerState keeps the last
// answer and withholds the host from SITE_REGISTRY until the hostname is active (or the operator says live=now).
import * as v from "valibot";
import { containerStub } from "../../durable/container-state";
import { CRON_MARKER_PREFIX, type HostnameRecord, isLive } from "../../durable/custom-hostname-table";
import { registryStub } from "../../durable/routing-registry";
import type { CustomHostname } from "../../schemas/cloudflare";
import { HostSchema } from "../../schemas/fields";
import { EdgeError } from "../shared/errors";
import { type CustomHostnamesApi, customHostnamesApi, missingSetting } from "./cloudflare-api";
import { goneRecord, recordFrom, removedRecord, stateOf } from "./custom-hostname-status";

type HostnameEnv = Pick<
  Env,
  | "CF_API_TOKEN"
  | "CF_ZONE_ID"
  | "CF_API_BASE"
  | "SAAS_CNAME_TARGET"
  | "CONTAINER_STATE"
  | "ROUTING_REGISTRY"
  | "SITE_REGISTRY"
  | "LOG_BUCKET"
>;

/** Containers the cron visits at once. */
const REFRESH_CONCURRENCY = 4;

type HostnameView = ReturnType<typeof hostnameView>;

function hostnameView(containerId: string, record: HostnameRecord) {
  return { containerId, ...record, live: isLive(record) };
}

/** The :host path parameter: a whole host (a same-origin mount host/prefix cannot have a custom hostname). */
export function hostParam(raw: string | undefined): string {
  let host: string;
  try {
    host = decodeURIComponent(raw ?? "");
  } catch {
    throw new EdgeError(400, "invalid_host", "the host in the path is not valid percent-encoding");
  }
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

/**
 * Only the container that routes the host in the RoutingRegistry now may act on its custom hostname. Asked before
 * Cloudflare is; the record is committed only after the registry is asked again (ContainerState.commitHostname).
 */
async function requireOwner(env: HostnameEnv, containerId: string, host: string): Promise<void> {
  const owners = await registryStub(env).publicHostOwners([host]);
  if (owners[host] !== containerId) throw notOwner(containerId, host);
}

function notOwner(containerId: string, host: string): EdgeError {
  // The owner is not named: the caller may hold a key scoped to this container only.
  return new EdgeError(
    409,
    "host_not_owned",
    `container ${containerId} does not route ${host} now (the routing registry gives it to no or another container); only the host's owner may act on its custom hostname`,
  );
}

/**
 * Creates the custom hostname at Cloudflare (or re-validates the container's own) and records it; `created` when a
 * new one was made. A hostname Cloudflare already has for this name that is not this container's own record is
 * never adopted: it was made for a previous owner (or by hand), so it is deleted first and a fresh one, with fresh
 * validation tokens, is created.
 */
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
  await requireOwner(env, containerId, host);

  const previous = (await stub.hostnames()).find((record) => record.host === host) ?? null;
  const ownId = previous?.state === "removed" ? null : (previous?.cloudflare?.id ?? null);
  let hostname = ownId ? await api.get(ownId) : null;
  const created = hostname === null;
  if (hostname === null) hostname = (await api.create(host)) ?? (await replaceForeign(api, host));
  else if (stateOf(hostname) !== "active") {
    // Sending the same SSL settings asks Cloudflare to validate again.
    hostname = await api.revalidate(hostname.id);
  }
  // A fresh hostname starts unproven: nothing of an earlier one (its activation) carries over.
  const record = recordFrom(hostname, {
    previous: created ? null : previous,
    liveNow,
    cnameTarget: env.SAAS_CNAME_TARGET,
    now: new Date().toISOString(),
  });
  if (!(await stub.commitHostname(containerId, record))) throw notOwner(containerId, host);
  return { view: hostnameView(containerId, record), created };
}

/**
 * Cloudflare already has a hostname for `host` that is not this container's own record (1406 on create): made for a
 * previous owner or by hand. It is never adopted: deleted first, then a fresh one is created.
 */
async function replaceForeign(api: CustomHostnamesApi, host: string): Promise<CustomHostname> {
  const existing = await api.find(host);
  if (existing) await api.remove(existing.id);
  const fresh = await api.create(host);
  if (!fresh)
    throw new EdgeError(502, "cloudflare_api_error", `Cloudflare still has a custom hostname for ${host} after deleting it; retry`);
  return fresh;
}

/** Asks Cloudflare for the hostname's current status, records it and answers it. */
export async function showHostname(env: HostnameEnv, containerId: string, host: string): Promise<HostnameView> {
  await requireOwner(env, containerId, host);
  const api = customHostnamesApi(env);
  const records = await containerStub(env, containerId).hostnames();
  const record = await refresh(env, api, containerId, known(records, containerId, host));
  return hostnameView(containerId, record);
}

/** Deletes the custom hostname at Cloudflare; the host leaves SITE_REGISTRY and stays out until it is PUT again. */
export async function removeHostname(env: HostnameEnv, containerId: string, host: string): Promise<HostnameView> {
  await requireOwner(env, containerId, host);
  const api = customHostnamesApi(env);
  const stub = containerStub(env, containerId);
  const record = known(await stub.hostnames(), containerId, host);
  if (record.cloudflare) await api.remove(record.cloudflare.id);
  const removed = removedRecord(host, new Date().toISOString());
  if (!(await stub.commitHostname(containerId, removed))) throw notOwner(containerId, host);
  return hostnameView(containerId, removed);
}

/** Containers with cron work (a hostname still pending, or one Cloudflare must delete) and when it is due. */
async function cronMarkers(env: Pick<Env, "LOG_BUCKET">): Promise<{ id: string; due: string }[]> {
  const markers: { id: string; due: string }[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.LOG_BUCKET.list({ prefix: CRON_MARKER_PREFIX, cursor, include: ["customMetadata"] });
    for (const object of page.objects) {
      markers.push({ id: object.key.slice(CRON_MARKER_PREFIX.length), due: object.customMetadata?.due ?? "" });
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return markers;
}

/** Containers with cron work (the alert check reads them too). */
export async function containersWithPendingHostnames(env: Pick<Env, "LOG_BUCKET">): Promise<string[]> {
  return (await cronMarkers(env)).map((marker) => marker.id);
}

/**
 * At most this many Cloudflare calls per cron run (one a minute): ≤ 500 per five minutes, well inside the 1,200 the
 * API allows a token, and the rest is left to operator calls and deploys.
 */
const CALLS_PER_RUN = 100;
/** A run stops once Cloudflare's own count (the Ratelimit header) says fewer than this many requests are left. */
const RESERVED_CALLS = 200;

interface RefreshResult {
  containers: number;
  checked: number;
  deleted: number;
  failed: number;
  calls: number;
  /** Why the run stopped before its work was done: its own cap, Cloudflare's remaining budget, or a 429. */
  stopped: null | "cap" | "budget" | "rate_limited";
}

/**
 * For the control Worker's Cron Trigger: deletes at Cloudflare the hostnames containers no longer own (retried every
 * run until done), and re-reads the pending hostnames that are due (backing off 1, 2, 5, 15, 60 minutes after each
 * change, then hourly), so a domain goes live soon after its customer's DNS records are in place without anyone
 * calling GET. Within the API's limits: at most CALLS_PER_RUN calls, none once Cloudflare says fewer than
 * RESERVED_CALLS are left, and nothing more after a 429. Does nothing without the Cloudflare settings (the local run
 * without the stand-in).
 */
export async function refreshPendingHostnames(env: HostnameEnv, now = Date.now()): Promise<RefreshResult> {
  const result: RefreshResult = { containers: 0, checked: 0, deleted: 0, failed: 0, calls: 0, stopped: null };
  if (missingSetting(env)) return result;
  const api = customHostnamesApi(env);
  const at = new Date(now).toISOString();
  const due = (await cronMarkers(env)).filter((marker) => marker.due <= at).sort((x, y) => x.due.localeCompare(y.due));
  result.containers = due.length;

  /** May the run make one more call? */
  const spend = (): boolean => {
    if (result.stopped) return false;
    const left = api.remaining();
    if (left !== null && left < RESERVED_CALLS) result.stopped = "budget";
    else if (result.calls >= CALLS_PER_RUN) result.stopped = "cap";
    else result.calls++;
    return result.stopped === null;
  };
  /** Counts a failed call; a 429 stops the run (the token is blocked for five minutes). */
  const failed = (containerId: string, error: unknown) => {
    result.failed++;
    if (error instanceof EdgeError && error.code === "cloudflare_rate_limited") result.stopped = "rate_limited";
    console.error(
      JSON.stringify({
        event: "hostname_refresh_failed",
        containerId,
        code: error instanceof EdgeError ? error.code : "internal_error",
        message: error instanceof Error ? error.message : String(error),
      }),
    );
  };

  const queue = [...due];
  const worker = async () => {
    for (let marker = queue.shift(); marker !== undefined && !result.stopped; marker = queue.shift()) {
      const id = marker.id;
      const stub = containerStub(env, id);
      for (const deletion of await stub.hostnameDeletions()) {
        if (!spend()) break;
        try {
          await api.remove(deletion.cloudflareId);
          await stub.hostnameDeleted(id, deletion.cloudflareId);
          result.deleted++;
        } catch (error) {
          failed(id, error);
          await stub.hostnameDeletionFailed(
            deletion.cloudflareId,
            `deleting the custom hostname at Cloudflare failed (retried every minute): ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
      const pending = (await stub.hostnames())
        .filter((r) => r.state === "pending" && (r.nextCheckAt ?? "") <= at)
        .sort((x, y) => (x.nextCheckAt ?? "").localeCompare(y.nextCheckAt ?? ""));
      const owners = pending.length > 0 ? await registryStub(env).publicHostOwners(pending.map((r) => r.host)) : {};
      for (const record of pending) {
        // A host this container no longer routes is reconciled by its apply; never ask Cloudflare for it here.
        if (owners[record.host] !== id) continue;
        if (!spend()) break;
        try {
          await refresh(env, api, id, record, now);
          result.checked++;
        } catch (error) {
          failed(id, error);
        }
      }
      await stub.cronVisited(id);
    }
  };
  await Promise.all(Array.from({ length: Math.min(REFRESH_CONCURRENCY, due.length) }, worker));
  console.log(JSON.stringify({ event: "hostname_refresh", ...result }));
  return result;
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
  record: HostnameRecord,
  at = Date.now(),
): Promise<HostnameRecord> {
  const now = new Date(at).toISOString();
  const hostname = record.cloudflare ? await api.get(record.cloudflare.id) : null;
  const next = hostname
    ? recordFrom(hostname, { previous: record, liveNow: record.liveNow, cnameTarget: env.SAAS_CNAME_TARGET, now })
    : goneRecord(record, now);
  if (!(await containerStub(env, containerId).commitHostname(containerId, next))) throw notOwner(containerId, record.host);
  if (next.state !== record.state) {
    console.log(JSON.stringify({ event: "hostname_state", containerId, host: next.host, from: record.state, to: next.state }));
  }
  return next;
}
