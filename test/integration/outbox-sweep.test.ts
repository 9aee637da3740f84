// The outbox sweeper (workers/scheduled/outbox-sweep.ts) and the webhook's acknowledgement, against the project's
// real SQL: each test's Supabase is a PostgREST stand-in tenant with its own database on a throwaway PostgreSQL 15
// (test/support/postgrest-stand-in.mjs; PostgREST itself cannot run here), so edge_outbox_pending,
// edge_outbox_mark_delivered and get_edge_config are the migrations' own functions, run as service_role.
// The sweeper's CONFIG_QUEUE is a recording wrapper (it can fail on demand); what it recorded is then delivered to
// the real queue handler with Supabase pointed at the tenant, so a change goes all the way into KV.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { edgeApi } from "../../workers/admin/api";
import { CRONS, runScheduled } from "../../workers/scheduled";
import { QUEUES } from "../../workers/shared/queues";
import { deliver } from "../support/control-pipeline";
import { edgeConfig } from "../support/fixtures";
import { statusOf } from "../support/pipeline";
import { standInTenant } from "../support/postgrest-stand-in.client";

type Tenant = ReturnType<typeof standInTenant>;

/** A CONFIG_QUEUE that records what it accepted and refuses the first `failures` calls. */
function recordingQueue(failures = 0) {
  const accepted: unknown[] = [];
  let calls = 0;
  const queue = {
    async send(body: unknown) {
      calls += 1;
      if (calls <= failures) throw new Error("simulated queue outage");
      accepted.push(body);
    },
    async sendBatch(messages: Iterable<MessageSendRequest>) {
      calls += 1;
      if (calls <= failures) throw new Error("simulated queue outage");
      for (const m of messages) accepted.push(m.body);
    },
  } as unknown as Queue;
  return { queue, accepted, calls: () => calls };
}

async function databaseTenant(name: string): Promise<Tenant> {
  const tenant = standInTenant(name);
  await tenant.useDatabase();
  return tenant;
}

/** A container with an infra host, a public host and a fixed loader token, written in one transaction. */
async function createContainer(tenant: Tenant, id: string) {
  await tenant.sqlExec(`begin;
    insert into containers (id, upstream, gtm_id) values ('${id}', 'https://sgtm.${id}.example', 'GTM-SWEEP1');
    insert into container_hosts (kind, host, container_id) values ('infra', '${id}.edge.example', '${id}'), ('public', 'ss.${id}.example', '${id}');
    update loader_tokens set token = 'lt_${id.replaceAll("-", "_")}' where container_id = '${id}';
    commit;`);
}

/** The webhook never came: the rows are older than the sweeper's grace period for in-flight webhooks. */
async function webhookLost(tenant: Tenant) {
  await tenant.sqlExec(`update edge_outbox set created_at = created_at - interval '1 minute' where delivered_at is null`);
}

async function outbox(tenant: Tenant) {
  return tenant.sqlQuery<{ id: number; config_version: number; op: string; delivered: boolean }>(
    `select id, config_version, op, delivered_at is not null as delivered from edge_outbox order by id`,
  );
}

async function sweep(tenant: Tenant, queue: Queue) {
  const ctx = createExecutionContext();
  await runScheduled(
    createScheduledController({ cron: CRONS.everyMinute, scheduledTime: Date.now() }),
    { ...env, ...tenant.env, CONFIG_QUEUE: queue },
    ctx,
  );
  await waitOnExecutionContext(ctx);
}

describe("outbox sweeper", () => {
  it("delivers a row whose webhook was dropped in one run, exactly once, and the config reaches KV", async () => {
    const tenant = await databaseTenant("sweep-lost");
    await createContainer(tenant, "sweep-lost");
    await webhookLost(tenant);
    const recorder = recordingQueue();

    await sweep(tenant, recorder.queue);

    expect(recorder.accepted).toEqual([{ type: "upsert", containerId: "sweep-lost", version: 1, source: "sweep" }]);
    expect(await outbox(tenant)).toMatchObject([{ config_version: 1, delivered: true }]);
    expect(await statusOf("sweep-lost")).toMatchObject({ desiredVersion: 1, appliedVersion: 0 });

    // The queued {containerId, version} is applied by the real consumer, which reads get_edge_config from the SQL.
    const result = await deliver(QUEUES.config, recorder.accepted, tenant.env);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await statusOf("sweep-lost")).toMatchObject({ appliedVersion: 1, inSync: true, lastError: null });
    expect(await env.EDGE_CONFIG.get("sweep-lost", "json")).toMatchObject({ containerId: "sweep-lost", version: 1 });
    expect(await env.ROUTING_MAP.get("sweep-lost.edge.example")).toBe("sweep-lost");
    expect(await env.SITE_REGISTRY.get("ss.sweep-lost.example")).toBe("sweep-lost");
    expect(await env.LOADER_TOKEN_MAP.get("lt_sweep_lost")).toBe("sweep-lost");

    await sweep(tenant, recorder.queue);
    expect(recorder.accepted).toHaveLength(1);
  });

  it("a queue send that fails the first time is tried again in the same run: one message, row acknowledged", async () => {
    const tenant = await databaseTenant("sweep-flaky");
    await createContainer(tenant, "sweep-flaky");
    await webhookLost(tenant);
    const recorder = recordingQueue(1);

    await sweep(tenant, recorder.queue);

    expect(recorder.calls()).toBe(2);
    expect(recorder.accepted).toEqual([{ type: "upsert", containerId: "sweep-flaky", version: 1, source: "sweep" }]);
    expect(await outbox(tenant)).toMatchObject([{ delivered: true }]);
  });

  it("a queue down for the whole run leaves the row unacknowledged; the next run delivers it once", async () => {
    const tenant = await databaseTenant("sweep-down");
    await createContainer(tenant, "sweep-down");
    await webhookLost(tenant);
    const down = recordingQueue(Number.POSITIVE_INFINITY);

    await sweep(tenant, down.queue);
    expect(down.accepted).toEqual([]);
    expect(await outbox(tenant)).toMatchObject([{ delivered: false }]);

    const up = recordingQueue();
    await sweep(tenant, up.queue);
    expect(up.accepted).toEqual([{ type: "upsert", containerId: "sweep-down", version: 1, source: "sweep" }]);
    expect(await outbox(tenant)).toMatchObject([{ delivered: true }]);
  });

  it("several lost rows of one container become one message for the newest; every row is acknowledged", async () => {
    const tenant = await databaseTenant("sweep-many");
    await createContainer(tenant, "sweep-many");
    await tenant.sqlExec(`update containers set gtm_id = 'GTM-SWEEP2' where id = 'sweep-many'`);
    await tenant.sqlExec(`update containers set gtm_id = 'GTM-SWEEP3' where id = 'sweep-many'`);
    await webhookLost(tenant);
    const recorder = recordingQueue();

    await sweep(tenant, recorder.queue);

    expect(recorder.accepted).toEqual([{ type: "upsert", containerId: "sweep-many", version: 3, source: "sweep" }]);
    expect((await outbox(tenant)).map((row) => row.delivered)).toEqual([true, true, true]);
  });

  it("a lost removal is sent as a delete at its version", async () => {
    const tenant = await databaseTenant("sweep-removed");
    await createContainer(tenant, "sweep-removed");
    await tenant.sqlExec(`delete from containers where id = 'sweep-removed'`);
    await webhookLost(tenant);
    const recorder = recordingQueue();

    await sweep(tenant, recorder.queue);

    expect(recorder.accepted).toEqual([{ type: "delete", containerId: "sweep-removed", version: 2, source: "sweep" }]);
  });

  it("a row whose version the edge already applied is acknowledged without sending anything", async () => {
    const tenant = await databaseTenant("sweep-applied");
    await createContainer(tenant, "sweep-applied");
    await webhookLost(tenant);
    // The webhook did arrive and the change was applied; only its acknowledgement got lost.
    await deliver(QUEUES.config, [
      { type: "upsert", containerId: "sweep-applied", version: 1, config: edgeConfig({ containerId: "sweep-applied" }) },
    ]);
    const recorder = recordingQueue();

    await sweep(tenant, recorder.queue);

    expect(recorder.calls()).toBe(0);
    expect(await outbox(tenant)).toMatchObject([{ delivered: true }]);
  });

  it("leaves a row younger than the grace period to its webhook", async () => {
    const tenant = await databaseTenant("sweep-fresh");
    await createContainer(tenant, "sweep-fresh");
    const recorder = recordingQueue();

    await sweep(tenant, recorder.queue);

    expect(recorder.calls()).toBe(0);
    expect(await outbox(tenant)).toMatchObject([{ delivered: false }]);
  });

  it("when there is nothing to do, a run is one RPC and touches nothing else", async () => {
    const tenant = await databaseTenant("sweep-idle");
    const recorder = recordingQueue();

    await sweep(tenant, recorder.queue);

    const requests = await tenant.requests();
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /rest/v1/rpc/edge_outbox_pending"]);
    // PostgREST's RPC shape: the service key twice, the named arguments as one JSON object.
    expect(requests[0]!.headers).toMatchObject({
      apikey: tenant.env.SUPABASE_SERVICE_ROLE_KEY,
      authorization: `Bearer ${tenant.env.SUPABASE_SERVICE_ROLE_KEY}`,
      "content-type": "application/json",
    });
    expect(requests[0]!.body).toEqual({ p_limit: 100, p_min_age_seconds: 10 });
    expect(recorder.calls()).toBe(0);
  });

  it("without Supabase configured a run does nothing", async () => {
    const recorder = recordingQueue();
    const ctx = createExecutionContext();
    await runScheduled(
      createScheduledController({ cron: CRONS.everyMinute }),
      { ...env, SUPABASE_URL: "", CONFIG_QUEUE: recorder.queue },
      ctx,
    );
    expect(recorder.calls()).toBe(0);
  });
});

describe("webhook acknowledgement", () => {
  it("the webhook path marks its outbox row delivered, so the next sweep sends nothing", async () => {
    const tenant = await databaseTenant("hook-ack");
    await createContainer(tenant, "hook-ack");
    const [row] = await outbox(tenant);
    const ctx = createExecutionContext();
    const res = await edgeApi.fetch(
      new Request("https://edge.example/_edge/hooks/supabase", {
        method: "POST",
        headers: { "X-Webhook-Secret": "test-webhook-secret", "Content-Type": "application/json" },
        body: JSON.stringify({
          type: "INSERT",
          table: "edge_outbox",
          schema: "public",
          record: { ...row, container_id: "hook-ack" },
          old_record: null,
        }),
      }),
      { ...env, ...tenant.env },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(202);
    expect(await outbox(tenant)).toMatchObject([{ delivered: true }]);

    await webhookLost(tenant);
    const recorder = recordingQueue();
    await sweep(tenant, recorder.queue);
    expect(recorder.calls()).toBe(0);
  });
});
