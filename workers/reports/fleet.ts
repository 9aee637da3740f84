// GET /_edge/admin/fleet: every container the caller may read, one row each, worst first. Built for 100-1,000
// containers per request: the container names and hosts come from the RoutingRegistry (one call per 100), the
// traffic from one read of the window's log batches (the report's reader, bounded), the alerts from AlertState
// (one call); only the rows of the page asked for (at most 100) cost a call to their ContainerState each, for sync
// and custom domains. So sorting and searching cover the whole fleet, and a page costs at most ~110 object calls.
import { alertStub } from "../../durable/alert-state";
import { containerStub } from "../../durable/container-state";
import { type RegisteredContainer, registryStub } from "../../durable/routing-registry";
import { DEFAULT_THRESHOLDS } from "../../schemas/alerts";
import { type Fleet, type FleetQuery, type FleetRow, HEALTH, type Health } from "../../schemas/fleet";
import type { AccessRecord } from "../../schemas/log-record";
import type { ContainerStatus } from "../../schemas/responses";
import { rate } from "./aggregate";
import { readWindow } from "./report";

/** Reason codes of answers the edge gave because the upstream failed. */
const UPSTREAM_REASONS = new Set(["upstream_unreachable", "upstream_timeout", "upstream_invalid_status"]);
/** Alerts that make a container red; any other open alert makes it yellow. */
const FAILING_ALERTS = new Set(["error_rate", "last_error", "out_of_sync"]);
const REGISTRY_PAGE = 100;
const TOP_ERRORS = 5;

interface Traffic {
  requests: number;
  errors: number;
  upstreamErrors: number;
  lastSeen: number;
  reasons: Map<string, number>;
}

/** Upstream failures: by reason code, or for records from before reasons existed, a 502/504 with no upstream answer. */
function isUpstreamError(r: AccessRecord): boolean {
  return r.reason === null ? (r.status === 502 || r.status === 504) && r.upstreamStatus === null : UPSTREAM_REASONS.has(r.reason);
}

function trafficByContainer(records: AccessRecord[], from: number, to: number): Map<string, Traffic> {
  const seen = new Set<string>();
  const byContainer = new Map<string, Traffic>();
  for (const r of records) {
    // A record delivered twice counts once (as in the report).
    if (r.ts < from || r.ts > to || seen.has(r.requestId)) continue;
    seen.add(r.requestId);
    const t = byContainer.get(r.containerId) ?? { requests: 0, errors: 0, upstreamErrors: 0, lastSeen: 0, reasons: new Map() };
    byContainer.set(r.containerId, t);
    t.requests += 1;
    if (r.status >= 500) t.errors += 1;
    if (isUpstreamError(r)) t.upstreamErrors += 1;
    if (r.reason !== null) t.reasons.set(r.reason, (t.reasons.get(r.reason) ?? 0) + 1);
    t.lastSeen = Math.max(t.lastSeen, r.ts);
  }
  return byContainer;
}

async function registered(env: Env, scope: readonly string[] | "*"): Promise<RegisteredContainer[]> {
  const all: RegisteredContainer[] = [];
  let cursor: string | null = "";
  while (cursor !== null) {
    const page = await registryStub(env).list(cursor, REGISTRY_PAGE, scope === "*" ? undefined : scope);
    all.push(...page.containers);
    cursor = page.next;
  }
  return all;
}

function pct(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}

/** The row from traffic and alerts alone (what sorting sees); `withStatus` adds what the container's object knows. */
function baseRow(
  container: RegisteredContainer,
  traffic: Traffic | undefined,
  alerts: { kind: string; message: string }[],
  errorShare: number,
  errorMinRequests: number,
): FleetRow {
  const t = traffic ?? { requests: 0, errors: 0, upstreamErrors: 0, lastSeen: 0, reasons: new Map<string, number>() };
  const share = rate(t.errors, t.requests);
  const fail: string[] = [];
  const warn: string[] = [];
  if (share !== null && share > errorShare && t.requests >= errorMinRequests)
    fail.push(`${pct(share)} of answers are 5xx (alert above ${pct(errorShare)})`);
  else if (t.errors > 0) warn.push(`${t.errors} 5xx answers`);
  if (t.upstreamErrors > 0) (fail.length ? fail : warn).push(`${t.upstreamErrors} upstream errors`);
  for (const a of alerts) (FAILING_ALERTS.has(a.kind) ? fail : warn).push(a.message);
  const health: Health = fail.length ? "fail" : warn.length ? "warn" : t.requests === 0 ? "idle" : "ok";
  return {
    containerId: container.containerId,
    hosts: [...container.publicHosts, ...container.infraHosts],
    health,
    why: [...fail, ...warn],
    requests: t.requests,
    errors: t.errors,
    errorShare: share,
    upstreamErrors: t.upstreamErrors,
    reasons: [...t.reasons.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, 3)
      .map(([reason, count]) => ({ reason, count })),
    lastSeen: t.lastSeen ? new Date(t.lastSeen).toISOString() : null,
    sync: null,
    appliedVersion: null,
    desiredVersion: null,
    lastError: null,
    domains: { total: 0, live: 0 },
    alerts: alerts.map((a) => a.message),
  };
}

/** Sync and custom domains from the container's object: a failing sync is red, an update or a domain not live yellow. */
function withStatus(row: FleetRow, status: ContainerStatus | null): FleetRow {
  if (!status) return row;
  const sync = status.deleted ? "deleted" : status.lastError ? "failing" : status.inSync ? "live" : "updating";
  const notLive = status.hostnames.filter((h) => !h.live);
  const failing = sync === "failing" ? [`config v${status.desiredVersion} is not live: ${status.lastError}`] : [];
  const warn = sync === "updating" ? [`config v${status.desiredVersion} on its way (v${status.appliedVersion} live)`] : [];
  for (const h of notLive) warn.push(`domain ${h.host} is ${h.state}, not live yet`);
  const health: Health =
    sync === "deleted"
      ? "gone"
      : failing.length || row.health === "fail"
        ? "fail"
        : warn.length || row.health === "warn"
          ? "warn"
          : row.health;
  return {
    ...row,
    health,
    why: sync === "deleted" ? ["deleted"] : [...failing, ...row.why, ...warn],
    sync,
    appliedVersion: status.appliedVersion,
    desiredVersion: status.desiredVersion,
    lastError: status.lastError,
    domains: { total: status.hostnames.length, live: status.hostnames.length - notLive.length },
  };
}

const BY: Record<FleetQuery["sort"], (a: FleetRow, b: FleetRow) => number> = {
  health: (a, b) => HEALTH.indexOf(a.health) - HEALTH.indexOf(b.health) || BY.errors(a, b),
  errors: (a, b) => (b.errorShare ?? -1) - (a.errorShare ?? -1) || b.errors - a.errors || BY.requests(a, b),
  requests: (a, b) => b.requests - a.requests || BY.name(a, b),
  upstream: (a, b) => b.upstreamErrors - a.upstreamErrors || BY.errors(a, b),
  lastSeen: (a, b) => (b.lastSeen ?? "").localeCompare(a.lastSeen ?? "") || BY.name(a, b),
  name: (a, b) => a.containerId.localeCompare(b.containerId),
};

export async function buildFleet(env: Env, scope: readonly string[] | "*", query: FleetQuery): Promise<Fleet> {
  const to = Date.now();
  const from = to - query.since;
  const [containers, window, alertList] = await Promise.all([
    registered(env, scope),
    readWindow(env.LOG_BUCKET, { from, to, containerId: null }),
    alertStub(env).list(),
  ]);
  const traffic = trafficByContainer(window.access, from, to);
  const open = new Map<string, { kind: string; message: string }[]>();
  for (const a of alertList.open) if (a.containerId !== null) open.set(a.containerId, [...(open.get(a.containerId) ?? []), a]);

  const rows = containers.map((c) => {
    const thresholds = { ...DEFAULT_THRESHOLDS, ...alertList.overrides[c.containerId] };
    return baseRow(c, traffic.get(c.containerId), open.get(c.containerId) ?? [], thresholds.errorShare, thresholds.errorMinRequests);
  });

  // The platform figure names the containers behind it, over every container the caller may read.
  const requests = rows.reduce((sum, r) => sum + r.requests, 0);
  const errors = rows.reduce((sum, r) => sum + r.errors, 0);
  const topErrors = rows
    .filter((r) => r.errors > 0)
    .sort((a, b) => b.errors - a.errors || BY.name(a, b))
    .slice(0, TOP_ERRORS)
    .map((r) => ({ containerId: r.containerId, errors: r.errors, errorShare: r.errorShare, shareOfErrors: r.errors / errors }));

  const matching = query.q ? rows.filter((r) => r.containerId.includes(query.q) || r.hosts.some((h) => h.includes(query.q))) : rows;
  matching.sort(BY[query.sort]);
  const page = matching.slice(query.cursor, query.cursor + query.limit);
  const statuses = await Promise.all(page.map((r) => containerStub(env, r.containerId).status(r.containerId)));
  const end = query.cursor + page.length;
  const counts = Object.fromEntries(HEALTH.map((h) => [h, 0])) as Record<Health, number>;
  for (const row of matching) counts[row.health] += 1;
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    total: matching.length,
    ids: containers.map((c) => c.containerId),
    counts,
    containers: page.map((row, i) => withStatus(row, statuses[i] ?? null)),
    next: end < matching.length ? String(end) : null,
    platform: { requests, errors, errorShare: rate(errors, requests), topErrors },
    objectsRead: window.objectsRead,
    truncated: window.truncated,
  };
}
