// Alerts: the scheduled check (workers/alerts/check.ts) with AlertState, against a loopback webhook receiver that
// records what it got (test/support/alert-receiver.global.mjs, standing where Slack's incoming webhook would be).
// Traffic figures come from real R2 batches written by the real log consumer; container health from real
// ContainerState objects; dead letters from the real R2 prefix. Custom hostnames have no source yet, so that check
// gets one handed in. Every alert is raised once and resolved once, and the receiver sees exactly those messages.
// The AlertState object is one per platform. So that tests cannot see each other's alerts, most of them run against
// an object of their own (the namespace wrapper below names it after the test) and in a time region of their own
// (ten days apart: the R2 batches of one test never fall into another's windows or baselines). Tests that go
// through the operator API or a ContainerState use the platform's object.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { alertStub, type HostnameObservation } from "../../durable/alert-state";
import { containerStub } from "../../durable/container-state";
import type { HostnameRecord } from "../../durable/custom-hostname-table";
import type { Alert } from "../../schemas/alerts";
import { DEFAULT_SOURCES, runAlertChecks } from "../../workers/alerts/check";
import { customHostnameSource } from "../../workers/alerts/hostnames";
import { CRONS, runScheduled } from "../../workers/scheduled";
import { storeDeadLetter } from "../../workers/shared/dead-letters";
import { QUEUES } from "../../workers/shared/queues";
import { type Receiver, receiver } from "../support/alert-receiver.client";
import { deliver } from "../support/control-pipeline";
import { edgeConfig } from "../support/fixtures";
import { accessRecord } from "../support/log-record-builders";
import { deliverLogs } from "../support/log-records";
import { admin } from "../support/pipeline";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The start of test region `k`: a future half hour, ten days from every other region. */
function region(k: number): number {
  return Math.floor(Date.now() / HOUR) * HOUR + k * 10 * DAY + 30 * MINUTE;
}

/** The platform's AlertState, or (with a name) one of the test's own, reached exactly as the check reaches it. */
function scope(name: string | null) {
  const namespace = env.ALERT_STATE;
  const scopedEnv: Env =
    name === null
      ? env
      : {
          ...env,
          ALERT_STATE: {
            ...namespace,
            idFromName: (base: string) => namespace.idFromName(`${base}:${name}`),
            get: (id: DurableObjectId) => namespace.get(id),
          } as unknown as Env["ALERT_STATE"],
        };
  return {
    check: (hook: Receiver | null, now: number, hostnames: HostnameObservation[] | null = null) =>
      runAlertChecks({ ...scopedEnv, ALERT_WEBHOOK_URL: hook?.url ?? "" }, now, { ...DEFAULT_SOURCES, hostnames: async () => hostnames }),
    /** With every default source, the custom-hostname one included, and the Cloudflare settings it needs present. */
    checkWithDefaultSources: (hook: Receiver, now: number) =>
      runAlertChecks({ ...scopedEnv, ...CLOUDFLARE_SETTINGS, ALERT_WEBHOOK_URL: hook.url }, now),
    alertsOf: async (key: string): Promise<{ open: Alert[]; resolved: Alert[] }> => {
      const list = await alertStub(scopedEnv).list();
      return { open: list.open.filter((a) => a.key === key), resolved: list.resolved.filter((a) => a.key === key) };
    },
  };
}

/** Custom hostnames are configured (the source reads only what the containers' objects recorded; no API call). */
const CLOUDFLARE_SETTINGS = { CF_API_TOKEN: "test-token", CF_ZONE_ID: "test-zone", SAAS_CNAME_TARGET: "saas.edge.example" };

/** A custom hostname as the customer-domains code records it in the container's object. */
function hostnameRecord(host: string, state: HostnameRecord["state"], liveNow = false): HostnameRecord {
  return { host, state, liveNow, activatedAt: null, cloudflare: null, errors: [], dnsRecords: [], checkedAt: new Date().toISOString() };
}

/** `count` access records for a container spread over the minutes before `end`, `errors` of them 502. */
async function traffic(containerId: string, end: number, count: number, errors = 0, spanMs = 10 * MINUTE) {
  const records = Array.from({ length: count }, (_, i) =>
    accessRecord({
      containerId,
      host: `ss.${containerId}.example`,
      ts: end - spanMs + Math.floor((i * spanMs) / count),
      status: i < errors ? 502 : 200,
    }),
  );
  for (let i = 0; i < records.length; i += 100) await deliverLogs(records.slice(i, i + 100));
}

describe("5xx share", () => {
  it("is raised once above the threshold and resolved once when the window is clean again", async () => {
    const { check, alertsOf } = scope("errors");
    const hook = receiver("errors");
    const now = region(1);
    await traffic("al-errors", now, 40, 10);

    await check(hook, now);
    await check(hook, now + MINUTE);
    expect((await alertsOf("error_rate:al-errors")).open).toHaveLength(1);

    // 20 minutes on, the failing requests have left the 15-minute window.
    await check(hook, now + 20 * MINUTE);
    await check(hook, now + 25 * MINUTE);
    const alerts = await alertsOf("error_rate:al-errors");
    expect(alerts.open).toEqual([]);
    expect(alerts.resolved).toHaveLength(1);
    expect(await hook.texts()).toEqual([
      expect.stringMatching(
        /^\[Qaxal Edge\] ALERT al-errors: 5xx share 25\.0 % \(10 of 40 requests\) in the last 15 min, threshold 5\.0 %$/,
      ),
      expect.stringMatching(/^\[Qaxal Edge\] RESOLVED al-errors: 5xx share 25\.0 % .*lasted 20 min\)$/),
    ]);
    // Slack-compatible: the whole body is {"text": ...}.
    expect(Object.keys((await hook.bodies())[0] as object)).toEqual(["text"]);
  });

  it("a handful of failing requests below the minimum count raises nothing", async () => {
    const { check, alertsOf } = scope("errors-few");
    const hook = receiver("errors-few");
    const now = region(2);
    await traffic("al-errors-few", now, 10, 5);
    await check(hook, now);
    expect((await alertsOf("error_rate:al-errors-few")).open).toEqual([]);
    expect(await hook.texts()).toEqual([]);
  });
});

describe("traffic far below the same hour's baseline", () => {
  it("is raised for the hour that fell, once, and resolved when the next hour is judged", async () => {
    const { check, alertsOf } = scope("drop");
    const hook = receiver("drop");
    const hour = region(3) - 30 * MINUTE;
    for (let day = 1; day <= 7; day += 1) await traffic("al-drop", hour - day * DAY + 50 * MINUTE, 100);
    await traffic("al-drop", hour + 50 * MINUTE, 5);

    await check(hook, hour + HOUR + 2 * MINUTE);
    await check(hook, hour + HOUR + 7 * MINUTE); // same hour: judged already, stays open, nothing re-sent
    expect((await alertsOf("traffic_drop:al-drop")).open).toHaveLength(1);

    // The next hour has no baseline traffic at all (below trafficMinBaseline): nothing to judge it against.
    await check(hook, hour + 2 * HOUR + 2 * MINUTE);
    expect((await alertsOf("traffic_drop:al-drop")).resolved).toHaveLength(1);
    const texts = (await hook.texts()).filter((t) => t.includes("al-drop"));
    expect(texts).toEqual([
      expect.stringMatching(
        /ALERT al-drop: 5 requests in the hour from \d\d:00 UTC, against 100 on average at that hour over the previous 7 days/,
      ),
      expect.stringMatching(/RESOLVED al-drop: 5 requests/),
    ]);
  });
});

describe("dead letters", () => {
  it("are raised while any is kept and resolved once they are replayed or removed", async () => {
    const { check, alertsOf } = scope("dead-letters");
    const hook = receiver("dead-letters");
    await storeDeadLetter(env, "config", "al-dlq-1", { containerId: "al-dlq" }, "test");
    await check(hook, region(4));
    expect((await alertsOf("dead_letters:*")).open).toHaveLength(1);

    await env.LOG_BUCKET.delete("dead-letters/config/al-dlq-1.json");
    await check(hook, region(4) + MINUTE);
    expect((await alertsOf("dead_letters:*")).open).toEqual([]);
    expect(await hook.texts()).toEqual([
      expect.stringMatching(/ALERT 1 dead letter\(s\) kept in R2/),
      expect.stringMatching(/RESOLVED 1 dead letter\(s\) kept in R2/),
    ]);
  });
});

describe("a container out of sync and failing", () => {
  it("raises both after the container's own thresholds, and resolves both once the version is applied", async () => {
    // ContainerState reports to the platform's object, and its times are real ones.
    const { check, alertsOf } = scope(null);
    const hook = receiver("sync");
    const id = "al-stuck";
    expect(
      (
        await admin(`/_edge/admin/alerts/thresholds/${id}`, {
          method: "PUT",
          body: JSON.stringify({ outOfSyncMinutes: 2, lastErrorMinutes: 3 }),
        })
      ).status,
    ).toBe(200);
    // A version announced without its config, and no Supabase to read it from: the consumer fails and retries.
    await deliver(QUEUES.config, [{ type: "upsert", containerId: id, version: 1 }]);
    const start = Date.now();

    await check(hook, start + MINUTE);
    expect((await alertsOf(`out_of_sync:${id}`)).open).toEqual([]); // not for long enough yet
    await check(hook, start + 2 * MINUTE + 5_000);
    expect((await alertsOf(`out_of_sync:${id}`)).open).toHaveLength(1);
    expect((await alertsOf(`last_error:${id}`)).open).toEqual([]);
    await check(hook, start + 3 * MINUTE + 5_000);
    expect((await alertsOf(`last_error:${id}`)).open).toHaveLength(1);

    await deliver(QUEUES.config, [{ type: "upsert", containerId: id, version: 1, config: edgeConfig({ containerId: id }) }]);
    await check(hook, Date.now() + 4 * MINUTE);
    expect((await alertsOf(`out_of_sync:${id}`)).resolved).toHaveLength(1);
    expect((await alertsOf(`last_error:${id}`)).resolved).toHaveLength(1);
    expect(await hook.texts()).toEqual([
      expect.stringMatching(/ALERT al-stuck: version 1 not applied for more than 2 min \(applied: 0\)/),
      expect.stringMatching(/ALERT al-stuck: failing for more than 3 min: SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY are not set/),
      expect.stringMatching(/RESOLVED al-stuck: version 1 not applied/),
      expect.stringMatching(/RESOLVED al-stuck: failing for more than 3 min/),
    ]);
  });

  it("a healthy container's config changes never reach the alerts", async () => {
    const id = "al-healthy";
    await deliver(QUEUES.config, [{ type: "upsert", containerId: id, version: 1, config: edgeConfig({ containerId: id }) }]);
    expect((await alertStub(env).plan(Date.now())).watched).not.toContain(id);
    expect(await containerStub(env, id).health()).toMatchObject({ outOfSyncSince: null, errorSince: null });
  });
});

describe("custom hostnames", () => {
  const pending: HostnameObservation[] = [{ containerId: "al-host", hostname: "ss.al-host.example", status: "pending_validation" }];

  it("a hostname not active for longer than the threshold is raised once, and resolved once it is active", async () => {
    const { check, alertsOf } = scope("hostnames");
    const hook = receiver("hostnames");
    const now = region(5);
    await check(hook, now, pending);
    expect((await alertsOf("hostname_inactive:al-host:ss.al-host.example")).open).toEqual([]);
    await check(hook, now + 61 * MINUTE, pending);
    expect((await alertsOf("hostname_inactive:al-host:ss.al-host.example")).open).toHaveLength(1);
    // No hostname data this time (the source has none): the check is skipped and the alert stays as it was.
    await check(hook, now + 62 * MINUTE, null);
    expect((await alertsOf("hostname_inactive:al-host:ss.al-host.example")).open).toHaveLength(1);
    await check(hook, now + 63 * MINUTE, [{ ...pending[0]!, status: "active" }]);
    expect((await alertsOf("hostname_inactive:al-host:ss.al-host.example")).resolved).toHaveLength(1);
    expect(await hook.texts()).toEqual([
      expect.stringMatching(/ALERT al-host: custom hostname ss\.al-host\.example is pending_validation, not active, for more than 60 min/),
      expect.stringMatching(/RESOLVED al-host: custom hostname ss\.al-host\.example/),
    ]);
  });
});

describe("custom hostnames, as the customer-domains code records them", () => {
  it("the source has no data without the Cloudflare settings (the check is skipped)", async () => {
    expect(await customHostnameSource({ ...env, CF_ZONE_ID: "" }, [])).toBeNull();
  });

  it("reads the hostnames of containers with one pending and of those named; a live one counts as active", async () => {
    const [pending, named] = ["al-src-pending", "al-src-named"];
    for (const id of [pending, named]) {
      await deliver(QUEUES.config, [{ type: "upsert", containerId: id, version: 1, config: edgeConfig({ containerId: id }) }]);
    }
    await containerStub(env, pending).commitHostname(pending, hostnameRecord(`ss.${pending}.example`, "pending"));
    await env.LOG_BUCKET.put(`custom-hostnames/pending/${pending}`, "");
    await containerStub(env, named).commitHostname(named, hostnameRecord(`ss.${named}.example`, "failed", true));

    const seen = await customHostnameSource({ ...env, ...CLOUDFLARE_SETTINGS }, [named]);
    expect(seen).toEqual(
      expect.arrayContaining([
        { containerId: pending, hostname: `ss.${pending}.example`, status: "pending" },
        { containerId: named, hostname: `ss.${named}.example`, status: "active" },
      ]),
    );
    await env.LOG_BUCKET.delete(`custom-hostnames/pending/${pending}`);
  });

  it("a hostname that fails and leaves the refresh cron's index still raises, and resolves once it is active", async () => {
    const { checkWithDefaultSources, alertsOf } = scope("hostnames-real");
    const hook = receiver("hostnames-real");
    const id = "al-src-failing";
    const host = `ss.${id}.example`;
    await deliver(QUEUES.config, [{ type: "upsert", containerId: id, version: 1, config: edgeConfig({ containerId: id }) }]);
    await containerStub(env, id).commitHostname(id, hostnameRecord(host, "pending"));
    await env.LOG_BUCKET.put(`custom-hostnames/pending/${id}`, "");
    const now = region(10);
    await checkWithDefaultSources(hook, now);

    // Cloudflare gave up: the hostname failed, and the refresh cron no longer visits the container.
    await containerStub(env, id).commitHostname(id, hostnameRecord(host, "failed"));
    await env.LOG_BUCKET.delete(`custom-hostnames/pending/${id}`);
    await checkWithDefaultSources(hook, now + 61 * MINUTE);
    expect((await alertsOf(`hostname_inactive:${id}:${host}`)).open).toHaveLength(1);

    await containerStub(env, id).commitHostname(id, hostnameRecord(host, "active"));
    await checkWithDefaultSources(hook, now + 66 * MINUTE);
    expect((await alertsOf(`hostname_inactive:${id}:${host}`)).resolved).toHaveLength(1);
    expect((await hook.texts()).filter((t) => t.includes(host))).toEqual([
      expect.stringMatching(new RegExp(`ALERT ${id}: custom hostname ${host.replaceAll(".", "\\.")} is failed, not active`)),
      expect.stringMatching(/RESOLVED al-src-failing: custom hostname/),
    ]);
  });
});

describe("the webhook", () => {
  it("a raise the webhook refused is sent by the next check, once", async () => {
    const { check, alertsOf } = scope("flaky");
    const hook = receiver("flaky");
    await hook.failNext(1);
    const now = region(6);
    await traffic("al-flaky", now, 30, 30);
    const first = await check(hook, now);
    expect(first.notifyFailed).toBe(true);
    expect(await hook.texts()).toEqual([]);
    expect((await alertsOf("error_rate:al-flaky")).open[0]).toMatchObject({ notified: false });

    await check(hook, now + MINUTE);
    await check(hook, now + 2 * MINUTE);
    expect(await hook.texts()).toEqual([expect.stringContaining("ALERT al-flaky")]);
    expect((await alertsOf("error_rate:al-flaky")).open[0]).toMatchObject({ notified: true });
  });

  it("without ALERT_WEBHOOK_URL alerts are raised and listed, and nothing is sent later either", async () => {
    const { check, alertsOf } = scope("quiet");
    const now = region(7);
    await traffic("al-quiet", now, 30, 30);
    await check(null, now);
    expect((await alertsOf("error_rate:al-quiet")).open[0]).toMatchObject({ notified: false });
    const hook = receiver("quiet-later");
    await check(hook, now + MINUTE);
    expect(await hook.texts()).toEqual([]);
  });

  it("a muted container raises nothing", async () => {
    const { check, alertsOf } = scope(null);
    await admin("/_edge/admin/alerts/thresholds/al-muted", { method: "PUT", body: JSON.stringify({ muted: true }) });
    const now = region(8);
    await traffic("al-muted", now, 30, 30);
    await check(receiver("muted"), now);
    expect((await alertsOf("error_rate:al-muted")).open).toEqual([]);
  });
});

describe("GET /_edge/admin/alerts and thresholds", () => {
  it("lists open and resolved alerts with the thresholds in force, behind the bearer token", async () => {
    await admin("/_edge/admin/alerts/thresholds/al-listed", { method: "PUT", body: JSON.stringify({ errorShare: 0.2 }) });
    const res = await admin("/_edge/admin/alerts");
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      open: Alert[];
      resolved: Alert[];
      defaults: Record<string, unknown>;
      overrides: Record<string, unknown>;
    };
    expect(body.defaults).toMatchObject({ errorShare: 0.05, errorMinRequests: 20, outOfSyncMinutes: 10 });
    expect(body.overrides["al-listed"]).toEqual({ errorShare: 0.2 });
    expect(Array.isArray(body.open) && Array.isArray(body.resolved)).toBe(true);

    const anonymous = await admin("/_edge/admin/alerts", { headers: { Authorization: "Bearer wrong" } });
    expect(anonymous.status).toBe(401);
  });

  it("a per-container threshold changes what is raised for that container only", async () => {
    const { check, alertsOf } = scope(null);
    const now = region(9);
    await admin("/_edge/admin/alerts/thresholds/al-tolerant", { method: "PUT", body: JSON.stringify({ errorShare: 0.5 }) });
    await traffic("al-tolerant", now, 40, 10);
    await traffic("al-strict", now, 40, 10);
    await check(receiver("per-container"), now);
    expect((await alertsOf("error_rate:al-tolerant")).open).toEqual([]);
    expect((await alertsOf("error_rate:al-strict")).open).toHaveLength(1);
    await check(receiver("per-container"), now + 30 * MINUTE);
  });

  it("PUT merges with earlier overrides and answers the thresholds in force; DELETE goes back to the defaults", async () => {
    await admin("/_edge/admin/alerts/thresholds/al-merge", { method: "PUT", body: JSON.stringify({ errorShare: 0.1 }) });
    const res = await admin("/_edge/admin/alerts/thresholds/al-merge", { method: "PUT", body: JSON.stringify({ lastErrorMinutes: 30 }) });
    expect(await res.json()).toEqual({
      containerId: "al-merge",
      thresholds: expect.objectContaining({ errorShare: 0.1, lastErrorMinutes: 30, outOfSyncMinutes: 10, muted: false }),
    });
    const cleared = await admin("/_edge/admin/alerts/thresholds/al-merge", { method: "DELETE" });
    expect(await cleared.json()).toMatchObject({ thresholds: { errorShare: 0.05, lastErrorMinutes: 10 } });
    expect((await admin("/_edge/admin/alerts/thresholds/al-merge", { method: "DELETE" })).status).toBe(404);
  });

  it("a bad threshold is a 400 naming the field", async () => {
    const res = await admin("/_edge/admin/alerts/thresholds/al-bad", { method: "PUT", body: JSON.stringify({ errorShare: 2 }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "invalid_body", message: "invalid body: errorShare must be at most 1" });
    const unknown = await admin("/_edge/admin/alerts/thresholds/al-bad", { method: "PUT", body: JSON.stringify({ colour: "red" }) });
    expect(await unknown.json()).toMatchObject({ message: expect.stringContaining('unknown field "colour"') });
  });
});

describe("the Cron Trigger", () => {
  it(`"${CRONS.everyFiveMinutes}" runs the alert check`, async () => {
    const { alertsOf } = scope(null);
    await storeDeadLetter(env, "logs", "al-cron-1", {}, "test");
    const ctx = createExecutionContext();
    await runScheduled(createScheduledController({ cron: CRONS.everyFiveMinutes, scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect((await alertsOf("dead_letters:*")).open).toHaveLength(1);
    await env.LOG_BUCKET.delete("dead-letters/logs/al-cron-1.json");
    await runScheduled(
      createScheduledController({ cron: CRONS.everyFiveMinutes, scheduledTime: Date.now() }),
      env,
      createExecutionContext(),
    );
    expect((await alertsOf("dead_letters:*")).open).toEqual([]);
  });
});
