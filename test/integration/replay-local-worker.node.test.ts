// `npm run replay` (scripts/replay.mjs) against a local Worker (wrangler dev, local KV/Queues/Durable Objects)
// whose control plane is real PostgreSQL data: the migrations run on a throwaway cluster, containers are seeded
// with SQL, and a PostgREST stand-in (test/support/postgrest-stand-in.mjs) serves what PostgreSQL returned (the
// containers and edge_outbox rows, and get_edge_config's output for each container) to both supabase-js clients:
// the replay script's and the Worker's sync consumer's. PostgREST itself cannot run here (no Docker).
//
// What "writes nothing new to KV" is measured with: Miniflare stores every KV put as a new blob file under a fresh
// random id, even when the value is identical (generateBlobId in miniflare's shared worker), so an unchanged set
// of blob file names across the config namespaces means no put happened. Miniflare's `QUEUE qaxal-config
// acked/total` batch lines tell when the queue has consumed what a run sent, and the consumer's `config_sync`
// lines which versions it applied.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AcceptedEdgeConfigSchema } from "../../schemas/accepted-edge-config";
import { ROOT, startPlatform } from "../../scripts/platform.mjs";
import { applyMigrations, startPostgres } from "../support/postgres.mjs";
import { startPostgrestStandIn } from "../support/postgrest-stand-in.mjs";

const SERVICE_KEY = "replay-test-service-role-key";
// Passed to wrangler dev explicitly (overriding a developer's own .dev.vars) and to the replay script.
const SECRETS = { ADMIN_TOKEN: "replay-admin-token", WEBHOOK_SECRET: "replay-webhook-secret", EDGE_AUTH_SECRET: "replay-edge-auth" };
const TENANT = "replay";
const CONTAINERS = ["replay-a", "replay-b", "replay-c"];
// Local KV namespaces are named by binding (the configs give no ids: `npm run deploy` fills them in).
const CONFIG_NAMESPACES = ["EDGE_CONFIG", "ROUTING_MAP", "SITE_REGISTRY", "LOADER_TOKEN_MAP"];

let pg: Awaited<ReturnType<typeof startPostgres>>;
let standIn: Awaited<ReturnType<typeof startPostgrestStandIn>>;
let platform: Awaited<ReturnType<typeof startPlatform>>;
let persistTo: string;

async function seedControlPlane() {
  await pg.exec(`
    begin;
    insert into containers (id, upstream, gtm_id) values
      ('replay-a', 'https://sgtm.replay-a.example', 'GTM-AAAA11'),
      ('replay-b', 'https://sgtm.replay-b.example', 'GTM-BBBB22'),
      ('replay-c', 'https://sgtm.replay-c.example', 'GTM-CCCC33');
    insert into container_hosts (kind, host, container_id) values
      ('infra', 'replay-a.edge.localhost', 'replay-a'), ('public', 'ss.replay-a.example', 'replay-a'),
      ('infra', 'replay-b.edge.localhost', 'replay-b'),
      ('public', 'www.replay-c.example/metrics', 'replay-c');
    insert into container_entitlements (container_id, entitlement) values ('replay-b', 'cookie_restoration');
    insert into container_modules (container_id, module, enabled, http_only) values ('replay-b', 'cookieKeeper', true, '{FPID}');
    commit;
    update containers set allowed_origins = '{https://www.replay-b.example}' where id = 'replay-b';`);
}

/** Makes the stand-in serve what PostgreSQL holds now. */
async function mirrorPostgres() {
  standIn.setRows(TENANT, "containers", await pg.query(`select id, config_version from containers order by id`));
  standIn.setRows(
    TENANT,
    "edge_outbox",
    await pg.query(`select id, container_id, config_version, op, created_at, delivered_at from edge_outbox order by id`),
  );
  for (const { id, config } of await pg.query(`select id, public.get_edge_config(id) as config from containers`)) {
    standIn.answerRpc(TENANT, "get_edge_config", { p_container_id: id }, { body: config });
  }
}

async function versionsInPostgres(): Promise<Record<string, number>> {
  const rows = await pg.query(`select id, config_version from containers`);
  return Object.fromEntries(rows.map((r) => [r.id, r.config_version]));
}

function replay(...args: string[]): Promise<{ code: number | null; out: string }> {
  const env = {
    ...process.env,
    SUPABASE_URL: standIn.supabaseUrl(TENANT),
    SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
    EDGE_URL: platform.workerUrl,
    ADMIN_TOKEN: SECRETS.ADMIN_TOKEN,
    WEBHOOK_SECRET: SECRETS.WEBHOOK_SECRET,
  };
  const child = spawn(process.execPath, [join(ROOT, "scripts/replay.mjs"), ...args], { env, cwd: ROOT });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, out })));
}

async function status(id: string) {
  const res = await fetch(`${platform.workerUrl}/_edge/admin/containers/${id}/status`, {
    headers: { Authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` },
  });
  return res.status === 200 ? res.json() : null;
}

async function appliedConfig(id: string) {
  const res = await fetch(`${platform.workerUrl}/_edge/config/${id}`, { headers: { "X-Edge-Auth": SECRETS.EDGE_AUTH_SECRET } });
  return res.json();
}

/** Every KV put so far, as the blob files Miniflare keeps for the four config namespaces. */
function kvBlobs(): string[] {
  return CONFIG_NAMESPACES.flatMap((ns) => {
    const dir = join(persistTo, "v3/kv", ns, "blobs");
    return existsSync(dir) ? readdirSync(dir).map((blob) => `${ns}/${blob}`) : [];
  }).sort();
}

/** Messages the config queue consumed (sum of batch totals) and the consumer's config_sync lines so far. */
function queueLog() {
  const text = platform.output.join("").replace(/\x1b\[[0-9;]*m/g, "");
  const consumed = [...text.matchAll(/QUEUE qaxal-config (\d+)\/(\d+)/g)].reduce((n, m) => n + Number(m[2]), 0);
  const syncs = [...text.matchAll(/\{"event":"config_sync",[^\n]*\}/g)].map((m) => JSON.parse(m[0]));
  return { consumed, syncs };
}

async function waitConverged(expected: Record<string, number>) {
  for (const [id, version] of Object.entries(expected)) {
    await expect
      .poll(async () => status(id), { timeout: 30_000, interval: 250 })
      .toMatchObject({ appliedVersion: version, desiredVersion: version, inSync: true, lastError: null });
  }
}

beforeAll(async () => {
  pg = await startPostgres();
  await applyMigrations(pg);
  await seedControlPlane();
  standIn = await startPostgrestStandIn({ serviceKey: SERVICE_KEY });
  await mirrorPostgres();
  persistTo = mkdtempSync(join(tmpdir(), "qaxal-replay-"));
  platform = await startPlatform({
    quiet: true,
    persistTo,
    loadDemo: false,
    vars: { ...SECRETS, SUPABASE_URL: standIn.supabaseUrl(TENANT), SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY },
  });
});

afterAll(async () => {
  await platform?.stop();
  await standIn?.close();
  await pg?.stop();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

describe("npm run replay", () => {
  it("--all re-enqueues every container and the edge converges on the control plane's configs", async () => {
    const { code, out } = await replay("--all");
    expect(out).toContain("summary: containers 3, enqueued 3, alreadyApplied 0, repairsQueued 3, failed 0");
    expect(code).toBe(0);

    await waitConverged(await versionsInPostgres());
    for (const { id, config } of await pg.query(`select id, public.get_edge_config(id) as config from containers`)) {
      // The control plane's config as the edge stores it: plus the cookie domains derived on acceptance.
      expect(await appliedConfig(id)).toEqual(v.parse(AcceptedEdgeConfigSchema, config));
    }
    // The Worker read each config through supabase-js with the service-role key.
    const rpcCalls = standIn.requests(TENANT).filter((r) => r.path === "/rest/v1/rpc/get_edge_config");
    expect(new Set(rpcCalls.map((r) => (r.body as { p_container_id: string }).p_container_id))).toEqual(new Set(CONTAINERS));
    for (const call of rpcCalls) expect(call.headers).toMatchObject({ apikey: SERVICE_KEY, authorization: `Bearer ${SERVICE_KEY}` });

    // Settled before the next run: the queue consumed the 3 upserts and the 3 repairs this run sent.
    await expect.poll(() => queueLog().consumed, { timeout: 30_000, interval: 250 }).toBeGreaterThanOrEqual(6);
  });

  it("running --all again writes nothing new to KV", async () => {
    const before = { blobs: kvBlobs(), log: queueLog(), statuses: await Promise.all(CONTAINERS.map(status)) };
    expect(before.blobs.length).toBeGreaterThan(0);

    const { code, out } = await replay("--all");
    expect(out).toContain("summary: containers 3, enqueued 0, alreadyApplied 3, repairsQueued 3, failed 0");
    expect(code).toBe(0);

    // Only the three repairs were queued (the Durable Objects refused the already-applied versions): wait for them.
    await expect.poll(() => queueLog().consumed, { timeout: 30_000, interval: 250 }).toBeGreaterThanOrEqual(before.log.consumed + 3);
    // No version was applied (a late re-send from the first run could only log "stale", which touches no KV).
    expect(
      queueLog()
        .syncs.slice(before.log.syncs.length)
        .filter((s) => s.status === "applied"),
    ).toEqual([]);
    expect(kvBlobs()).toEqual(before.blobs);
    const after = await Promise.all(CONTAINERS.map(status));
    expect(after.map((s) => s.appliedVersion)).toEqual(before.statuses.map((s) => s.appliedVersion));
  });

  it("--container replays the named containers and fails for an id the control plane does not have", async () => {
    const { code, out } = await replay("--container", "replay-b", "--container", "replay-zz");
    expect(out).toContain("replay-zz: not in the control plane");
    expect(out).toMatch(/\[1\/1\] replay-b v\d+: already applied at the edge/);
    expect(out).toContain("summary: containers 1, enqueued 0, alreadyApplied 1, repairsQueued 1, failed 1");
    expect(code).toBe(1);
  });

  it("--help lists the modes and options and needs no Supabase settings", async () => {
    const child = spawn(process.execPath, [join(ROOT, "scripts/replay.mjs"), "--help"], {
      env: { ...process.env, SUPABASE_URL: "", SUPABASE_SERVICE_ROLE_KEY: "" },
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const code = await new Promise((r) => child.once("exit", r));
    expect(code).toBe(0);
    for (const option of ["--all", "--container", "--outbox", "--edge-url", "--supabase-url", "--service-role-key"])
      expect(out).toContain(option);
  });

  it("refuses to run without a mode (usage error, exit code 2)", async () => {
    const { code, out } = await replay();
    expect(out).toContain("choose one of --all, --container <id> (repeatable) or --outbox");
    expect(code).toBe(2);
  });

  it("--outbox delivers a change whose webhook call was lost, marks every row delivered, and then has nothing left", async () => {
    // A change committed in PostgreSQL whose webhook never reached the edge (none is installed here).
    await pg.exec(`update containers set gtm_id = 'GTM-LOST99' where id = 'replay-a'`);
    await mirrorPostgres();
    const pending = standIn.rows(TENANT, "edge_outbox").length;
    const firstPatch = standIn.requests(TENANT).length;
    const blobsBefore = kvBlobs();

    const first = await replay("--outbox");
    // The webhook path sends the control plane's current config for a row (the registry claims what will be applied),
    // so an older row of replay-a already carries its newest version: one or two rows of replay-a may be queued
    // before the first is applied. Every other row is already applied; none fails.
    const summary = /summary: rows (\d+), enqueued (\d+), alreadyApplied (\d+), failed 0/.exec(first.out);
    expect(summary, first.out).not.toBeNull();
    const [rows, enqueued, alreadyApplied] = summary!.slice(1).map(Number);
    expect(rows).toBe(pending);
    expect(enqueued).toBeGreaterThanOrEqual(1);
    expect(enqueued! + alreadyApplied!).toBe(pending);
    expect(first.out).not.toMatch(/replay-[bc] v\d+ upsert: enqueued/);
    expect(first.code).toBe(0);
    await waitConverged(await versionsInPostgres());
    expect(await appliedConfig("replay-a")).toMatchObject({ gtmId: "GTM-LOST99" });
    // The measure used above does see writes: the new version put exactly one new EDGE_CONFIG value.
    expect(kvBlobs().filter((blob) => !blobsBefore.includes(blob))).toEqual([expect.stringMatching(/^EDGE_CONFIG\//)]);

    expect(standIn.rows(TENANT, "edge_outbox").every((row) => typeof row.delivered_at === "string")).toBe(true);
    const patches = standIn
      .requests(TENANT)
      .slice(firstPatch)
      .filter((r) => r.method === "PATCH");
    expect(patches).toHaveLength(pending);
    expect(patches[0]).toMatchObject({
      path: "/rest/v1/edge_outbox",
      query: { id: expect.stringMatching(/^eq\.\d+$/) },
      body: { delivered_at: expect.any(String) },
    });

    const second = await replay("--outbox");
    expect(second.out).toContain("summary: rows 0, enqueued 0, alreadyApplied 0, failed 0");
    expect(second.code).toBe(0);
  });
});
