// `npm run deploy` against a stand-in of Cloudflare's API (test/support/cloudflare-account-stand-in.mjs: there is no
// internet here), reached through the official SDK, and the real wrangler, which bundles the configs the script
// writes (--dry-run). The account already holds 45 queues and 45 buckets of other projects, so every list is paged.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploy, kvTitle, REQUIRED_SECRETS } from "../../scripts/deploy.mjs";
import { startCloudflareAccountStandIn } from "../support/cloudflare-account-stand-in.mjs";

type StandIn = Awaited<ReturnType<typeof startCloudflareAccountStandIn>>;
const lines: string[] = [];
const log = (line: string) => lines.push(line);
const SECRETS = Object.fromEntries(REQUIRED_SECRETS.map((name) => [name, `secret-${name}`]));
const settingsDir = mkdtempSync(join(tmpdir(), "qaxal-deploy-settings-"));

function settings(cloudflare: StandIn, extra: Record<string, string> = {}) {
  return {
    CLOUDFLARE_API_BASE_URL: cloudflare.baseUrl,
    CLOUDFLARE_ACCOUNT_ID: cloudflare.account,
    CLOUDFLARE_API_TOKEN: cloudflare.token,
    QAXAL_STAGING_ZONE: "qaxal-staging.net",
    QAXAL_STAGING_OPERATOR_HOST: "ops.qaxal-staging.net",
    QAXAL_STAGING_FALLBACK_ORIGIN: "edge.qaxal-staging.net",
    QAXAL_PRODUCTION_ZONE: "qaxal.net",
    QAXAL_PRODUCTION_OPERATOR_HOST: "ops.qaxal.net",
    QAXAL_PRODUCTION_FALLBACK_ORIGIN: "edge.qaxal.net",
    ...SECRETS,
    ...extra,
  };
}

async function account({ r2Enabled = true } = {}) {
  const cloudflare = await startCloudflareAccountStandIn({ r2Enabled });
  for (let i = 1; i <= 45; i++) {
    cloudflare.state.queues.push({ queue_id: `q${i}`, queue_name: `other-project-${i}`, created_on: "2026-01-01T00:00:00Z" });
    cloudflare.state.buckets.push({ name: `other-bucket-${i}`, creation_date: "2026-01-01T00:00:00Z" });
  }
  return cloudflare;
}

const run = (cloudflare: StandIn, env: string, extra: Record<string, string> = {}) =>
  deploy({ env, dryRun: true, log, environment: settings(cloudflare, extra), settingsDir });

describe("npm run deploy: twice per environment, each on its own zone", () => {
  let cloudflare: StandIn;
  const calls: Record<string, { reads: number; writes: number }> = {};
  const secondRuns: Record<string, Awaited<ReturnType<typeof deploy>>> = {};
  beforeAll(async () => {
    cloudflare = await account();
    cloudflare.addZone("qaxal-staging.net");
    cloudflare.addZone("qaxal.net");
  });
  afterAll(async () => {
    await cloudflare.close();
    console.log(`API calls per deploy: ${JSON.stringify(calls)}`);
  });

  for (const env of ["staging", "production"]) {
    it(`${env}: the first run creates everything, the second creates nothing`, async () => {
      const before = { reads: cloudflare.reads(), writes: cloudflare.writes() };
      const first = await run(cloudflare, env);
      const afterFirst = { reads: cloudflare.reads(), writes: cloudflare.writes() };
      // 5 KV namespaces, 4 queues, the bucket, its lifecycle rules, 2 DNS records, the fallback origin.
      expect(first.created).toHaveLength(14);
      const second = await run(cloudflare, env);
      secondRuns[env] = second;
      expect(second.created).toEqual([]);
      expect(cloudflare.writes()).toBe(afterFirst.writes);
      calls[`${env} first`] = { reads: afterFirst.reads - before.reads, writes: afterFirst.writes - before.writes };
      calls[`${env} second`] = { reads: cloudflare.reads() - afterFirst.reads, writes: 0 };
      expect(cloudflare.state.queues.filter((q) => q.queue_name.startsWith(`qaxal-${env}-`))).toHaveLength(4);
      expect(cloudflare.state.buckets.filter((b) => b.name === `qaxal-${env}-logs`)).toHaveLength(1);
    });
  }

  it("writes every var the Workers need into both configs, on a run that created nothing", () => {
    const zone = cloudflare.state.zones.find((z) => z.name === "qaxal.net")!;
    const { configs } = secondRuns.production!;
    expect(configs.control.env.production.vars).toMatchObject({
      CF_ZONE_ID: zone.id,
      SAAS_CNAME_TARGET: "edge.qaxal.net",
      CF_ACCOUNT_ID: cloudflare.account,
      OPERATOR_HOSTS: "ops.qaxal.net",
      PLATFORM_DOMAINS: "qaxal.net",
      CONFIG_CACHE_HOST: "config-cache.qaxal.net",
    });
    expect(configs.edge.env.production.vars).toMatchObject({
      OPERATOR_HOSTS: "ops.qaxal.net",
      CONFIG_CACHE_HOST: "config-cache.qaxal.net",
    });
    for (const config of [configs.control, configs.edge]) {
      expect(Object.entries(config.env.production.vars).filter(([, value]) => value === "")).toEqual([]);
    }
    expect(configs.edge.env.production.routes).toEqual([{ pattern: "*/*", zone_name: "qaxal.net" }]);
    expect(configs.control.env.production.routes).toEqual([{ pattern: "ops.qaxal.net/*", zone_name: "qaxal.net" }]);
    for (const config of [configs.control, configs.edge]) {
      expect(config.env.production).toMatchObject({ workers_dev: false, preview_urls: false });
    }
    const routingMap = cloudflare.state.namespaces.find((n) => n.title === kvTitle("production", "ROUTING_MAP"))!;
    expect(configs.edge.env.production.kv_namespaces).toContainEqual({ binding: "ROUTING_MAP", id: routingMap.id });
    expect(configs.control.env.production.kv_namespaces.map((kv: { id: string }) => kv.id)).toEqual(
      configs.edge.env.production.kv_namespaces.map((kv: { id: string }) => kv.id),
    );
  });

  it("gives the zone one proxied wildcard record, the fallback origin and the log bucket's lifecycle rules", () => {
    const zone = cloudflare.state.zones.find((z) => z.name === "qaxal.net")!;
    expect(zone.dns.map(({ name, type, content, proxied }) => ({ name, type, content, proxied }))).toEqual([
      { name: "*.qaxal.net", type: "AAAA", content: "100::", proxied: true },
      { name: "edge.qaxal.net", type: "AAAA", content: "100::", proxied: true },
    ]);
    expect(zone.fallbackOrigin?.origin).toBe("edge.qaxal.net");
    expect(cloudflare.state.lifecycle.get("qaxal-production-logs")).toEqual([
      expect.objectContaining({ id: "logs-90-days", conditions: { prefix: "logs/" } }),
      expect.objectContaining({ id: "log-dead-letters-30-days", conditions: { prefix: "dead-letters/logs/" } }),
    ]);
  });

  it("refuses a second environment on a zone another one already carries, before creating anything", async () => {
    const writes = cloudflare.writes();
    const namespaces = cloudflare.state.namespaces.length;
    // Staging pointed at production's zone (its settings file copied without changing it).
    await expect(
      run(cloudflare, "staging", {
        QAXAL_STAGING_ZONE: "qaxal.net",
        QAXAL_STAGING_OPERATOR_HOST: "ops2.qaxal.net",
        QAXAL_STAGING_FALLBACK_ORIGIN: "edge2.qaxal.net",
        QAXAL_PRODUCTION_ZONE: "",
      }),
    ).rejects.toThrow(/qaxal\.net already carries environment production .*give staging its own zone \(QAXAL_STAGING_ZONE\)/);
    expect(cloudflare.writes()).toBe(writes);
    expect(cloudflare.state.namespaces).toHaveLength(namespaces);
  });

  it("refuses both environments on one zone in the settings, before any API call", async () => {
    const requests = cloudflare.state.requests.length;
    await expect(run(cloudflare, "production", { QAXAL_PRODUCTION_ZONE: "qaxal-staging.net" })).rejects.toThrow(
      /QAXAL_PRODUCTION_ZONE and QAXAL_STAGING_ZONE are both qaxal-staging\.net: each environment needs its own zone/,
    );
    expect(cloudflare.state.requests).toHaveLength(requests);
  });
});

describe("npm run deploy: preflight refusals name the fix and create nothing", () => {
  let cloudflare: StandIn;
  beforeAll(async () => {
    cloudflare = await account();
  });
  afterAll(() => cloudflare.close());

  it("a missing secret, before any API call", async () => {
    await expect(run(cloudflare, "staging", { ADMIN_TOKEN: "" })).rejects.toThrow(
      /set ADMIN_TOKEN \(uploaded to the Workers\), or pass --keep-secrets/,
    );
    expect(cloudflare.state.requests).toEqual([]);
  });

  it("missing settings, each named, before any API call", async () => {
    await expect(deploy({ env: "staging", dryRun: true, log, environment: { ...SECRETS }, settingsDir })).rejects.toThrow(
      /CLOUDFLARE_ACCOUNT_ID[\s\S]*CLOUDFLARE_API_TOKEN[\s\S]*QAXAL_STAGING_ZONE[\s\S]*QAXAL_STAGING_OPERATOR_HOST[\s\S]*QAXAL_STAGING_FALLBACK_ORIGIN/,
    );
    expect(cloudflare.state.requests).toEqual([]);
  });

  it("an operator host Universal SSL would not cover", async () => {
    await expect(run(cloudflare, "staging", { QAXAL_STAGING_OPERATOR_HOST: "ops.edge.qaxal-staging.net" })).rejects.toThrow(
      /QAXAL_STAGING_OPERATOR_HOST=ops\.edge\.qaxal-staging\.net must be a first-level name on qaxal-staging\.net/,
    );
  });

  it("no network: one line naming the cause", async () => {
    const error = await run(cloudflare, "staging", { CLOUDFLARE_API_BASE_URL: "http://api.cloudflare.invalid/client/v4" }).catch((e) => e);
    expect(error.message).toMatch(/^cannot reach Cloudflare's API while listing KV namespaces \(ENOTFOUND\): check the network/);
    expect(error.message).not.toContain("\n");
  });

  it("a refused token names the permission", async () => {
    await expect(run(cloudflare, "staging", { CLOUDFLARE_API_TOKEN: "wrong" })).rejects.toThrow(
      /CLOUDFLARE_API_TOKEN was refused while listing KV namespaces: give the token Workers KV Storage: Edit/,
    );
  });

  it("R2 not enabled", async () => {
    const noR2 = await account({ r2Enabled: false });
    noR2.addZone("qaxal-staging.net");
    await expect(run(noR2, "staging")).rejects.toThrow(/R2 is not enabled on this account: dashboard → R2 Object Storage/);
    expect(noR2.writes()).toBe(0);
    await noR2.close();
  });

  it("a zone that is not on the account", async () => {
    await expect(run(cloudflare, "staging")).rejects.toThrow(/zone qaxal-staging\.net \(QAXAL_STAGING_ZONE\) is not on this account/);
    expect(cloudflare.writes()).toBe(0);
  });

  it("a zone without Cloudflare for SaaS", async () => {
    cloudflare.addZone("qaxal-staging.net", { saas: false });
    await expect(run(cloudflare, "staging")).rejects.toThrow(
      /Cloudflare for SaaS is not enabled on qaxal-staging\.net: dashboard → qaxal-staging\.net → SSL\/TLS → Custom Hostnames → Enable/,
    );
    expect(cloudflare.writes()).toBe(0);
    cloudflare.state.zones.pop();
  });

  it("*/* held by another script, and the operator host held by another Worker's Custom Domain", async () => {
    const zone = cloudflare.addZone("qaxal-staging.net");
    zone.routes.push({ id: "r1", pattern: "*/*", script: "someone-else" });
    cloudflare.state.domains.push({
      id: "d1",
      hostname: "ops.qaxal-staging.net",
      service: "old-admin",
      environment: "production",
      zone_id: zone.id,
      zone_name: zone.name,
    });
    const error = await run(cloudflare, "staging").catch((e) => e);
    expect(error.message).toMatch(/\*\/\* on qaxal-staging\.net is held by someone-else: remove that route/);
    expect(error.message).toMatch(/ops\.qaxal-staging\.net is a Custom Domain of old-admin: delete it/);
    expect(cloudflare.writes()).toBe(0);
  });

  it("a zone whose */* route production's edge already holds: staging is refused, as wrangler would meet duplicate_route", async () => {
    cloudflare.state.zones.pop();
    const zone = cloudflare.addZone("qaxal-staging.net");
    const route = (pattern: string, script: string) =>
      fetch(`${cloudflare.baseUrl}/zones/${zone.id}/workers/routes`, {
        method: "POST",
        headers: { Authorization: `Bearer ${cloudflare.token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ pattern, script }),
      }).then((r) => r.json());
    expect((await route("*/*", "qaxal-edge-production")).success).toBe(true);
    expect((await route("*/*", "qaxal-edge-staging")).errors).toEqual([{ code: 10020, message: "duplicate_route" }]);
    const writes = cloudflare.writes();
    await expect(run(cloudflare, "staging")).rejects.toThrow(
      /qaxal-staging\.net already serves environment production \(route \*\/\* → qaxal-edge-production\): give staging its own zone/,
    );
    expect(cloudflare.writes()).toBe(writes);
  });

  it("--keep-secrets: a secret that is on neither the shell nor its Worker, for each Worker", async () => {
    cloudflare.state.zones.pop();
    cloudflare.addZone("qaxal-staging.net");
    cloudflare.state.secrets.set("qaxal-control-staging", ["ADMIN_TOKEN", "WEBHOOK_SECRET", "EDGE_AUTH_SECRET"]);
    const writes = cloudflare.writes();
    await expect(
      deploy({
        env: "staging",
        dryRun: true,
        keepSecrets: true,
        log,
        environment: settings(cloudflare, { CF_API_TOKEN: "", ADMIN_TOKEN: "", EDGE_AUTH_SECRET: "" }),
        settingsDir,
      }),
    ).rejects.toThrow(
      /CF_API_TOKEN not set on qaxal-control-staging: export CF_API_TOKEN .* or run npx wrangler secret put <NAME> --name qaxal-control-staging\n.*EDGE_AUTH_SECRET not set on qaxal-edge-staging/,
    );
    expect(cloudflare.writes()).toBe(writes);
  });
});

describe("npm run deploy: settings file, rate limit, --help", () => {
  it("reads .deploy/<env>.env (an empty shell value does not override it), rides out a 429 with Retry-After, and creates everything", async () => {
    const cloudflare = await account();
    cloudflare.addZone("qaxal-staging.net");
    const { QAXAL_STAGING_ZONE, QAXAL_STAGING_OPERATOR_HOST, QAXAL_STAGING_FALLBACK_ORIGIN } = settings(cloudflare);
    const ownDir = mkdtempSync(join(tmpdir(), "qaxal-deploy-settings-"));
    writeFileSync(
      join(ownDir, "staging.env"),
      `# staging\nexport QAXAL_STAGING_ZONE=${QAXAL_STAGING_ZONE}\nQAXAL_STAGING_OPERATOR_HOST="${QAXAL_STAGING_OPERATOR_HOST}"\nQAXAL_STAGING_FALLBACK_ORIGIN=${QAXAL_STAGING_FALLBACK_ORIGIN}\n`,
    );
    cloudflare.throttle(2, 1);
    const { created } = await deploy({
      env: "staging",
      dryRun: true,
      log,
      environment: {
        CLOUDFLARE_API_BASE_URL: cloudflare.baseUrl,
        CLOUDFLARE_ACCOUNT_ID: cloudflare.account,
        CLOUDFLARE_API_TOKEN: cloudflare.token,
        QAXAL_STAGING_ZONE: "", // an empty shell value leaves the file's
        ...SECRETS,
      },
      settingsDir: ownDir,
    });
    expect(cloudflare.state.requests.slice(0, 3).map((r) => r.status)).toEqual([429, 429, 200]);
    expect(created).toHaveLength(14);
    await cloudflare.close();
  });

  it("a Retry-After of five minutes stops the deploy with when to run again", async () => {
    const cloudflare = await account();
    cloudflare.throttle(1, 300);
    await expect(run(cloudflare, "staging")).rejects.toThrow(
      /rate limit was reached while listing KV namespaces .*run again in 300 seconds/,
    );
    expect(cloudflare.state.requests).toHaveLength(1);
    await cloudflare.close();
  });

  it("--help lists every setting and flag", () => {
    const help = execFileSync(process.execPath, ["scripts/deploy.mjs", "--help"], { encoding: "utf8" });
    for (const word of [
      "CLOUDFLARE_ACCOUNT_ID",
      "QAXAL_<ENV>_ZONE",
      "QAXAL_<ENV>_OPERATOR_HOST",
      "QAXAL_<ENV>_FALLBACK_ORIGIN",
      "--dry-run",
      "--keep-secrets",
      "--settings",
      "CF_API_TOKEN",
    ]) {
      expect(help).toContain(word);
    }
  });
});
