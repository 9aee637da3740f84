// `npm run deploy` against a stand-in of Cloudflare's account API (test/support/cloudflare-account-stand-in.mjs:
// there is no internet here) and the real wrangler, which bundles the configs the script writes (--dry-run).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploy, kvTitle, REQUIRED_SECRETS } from "../../scripts/deploy.mjs";
import { startCloudflareAccountStandIn } from "../support/cloudflare-account-stand-in.mjs";

type StandIn = Awaited<ReturnType<typeof startCloudflareAccountStandIn>>;
let cloudflare: StandIn;
const lines: string[] = [];
const log = (line: string) => lines.push(line);

function environment(extra: Record<string, string> = {}) {
  return {
    CLOUDFLARE_API_BASE_URL: cloudflare.baseUrl,
    CLOUDFLARE_ACCOUNT_ID: cloudflare.account,
    CLOUDFLARE_API_TOKEN: cloudflare.token,
    QAXAL_ZONE_NAME: "qaxal.example",
    QAXAL_OPERATOR_HOST: "ops.qaxal.example",
    ...extra,
  };
}
const SECRETS = Object.fromEntries(REQUIRED_SECRETS.map((name) => [name, `secret-${name}`]));
const writes = () => cloudflare.state.requests.filter((r) => r.method !== "GET");

beforeAll(async () => {
  cloudflare = await startCloudflareAccountStandIn();
});
afterAll(() => cloudflare.close());

describe("npm run deploy", () => {
  it("refuses to start while a required secret is unset, naming it, and creates nothing", async () => {
    const { ADMIN_TOKEN: _unset, ...others } = SECRETS;
    await expect(deploy({ env: "staging", dryRun: true, log, environment: environment(others) })).rejects.toThrow(/ADMIN_TOKEN/);
    expect(writes()).toEqual([]);
  });

  it("refuses to start without its settings, naming each", async () => {
    await expect(deploy({ env: "staging", dryRun: true, log, environment: { ...SECRETS } })).rejects.toThrow(
      /CLOUDFLARE_ACCOUNT_ID.*CLOUDFLARE_API_TOKEN.*QAXAL_ZONE_NAME.*QAXAL_OPERATOR_HOST/,
    );
  });

  it("refuses an environment other than staging or production", async () => {
    await expect(deploy({ env: "prod", dryRun: true, log, environment: environment(SECRETS) })).rejects.toThrow(/staging or production/);
  });

  it("creates the KV namespaces, queues and bucket, then bundles both Workers with the real ids", async () => {
    const { created, configs } = await deploy({ env: "staging", dryRun: true, log, environment: environment(SECRETS) });
    expect(created).toHaveLength(5 + 4 + 1);
    expect(cloudflare.state.queues.map((q) => q.queue_name).sort()).toEqual([
      "qaxal-staging-config",
      "qaxal-staging-config-dlq",
      "qaxal-staging-logs",
      "qaxal-staging-logs-dlq",
    ]);
    expect(cloudflare.state.buckets.map((b) => b.name)).toEqual(["qaxal-staging-logs"]);
    const routingMap = cloudflare.state.namespaces.find((n) => n.title === kvTitle("staging", "ROUTING_MAP"));
    const edgeKv = configs.edge.env.staging.kv_namespaces;
    expect(edgeKv.find((kv: { binding: string }) => kv.binding === "ROUTING_MAP")).toEqual({ binding: "ROUTING_MAP", id: routingMap!.id });
    expect(configs.control.env.staging.kv_namespaces.map((kv: { id: string }) => kv.id)).toEqual(edgeKv.map((kv: { id: string }) => kv.id));
    expect(configs.edge.env.staging.vars.OPERATOR_HOSTS).toBe("ops.qaxal.example");
    expect(configs.control.env.staging.routes).toEqual([{ pattern: "ops.qaxal.example", custom_domain: true }]);
    expect(lines.filter((l) => l.startsWith("wrangler deploy")).map((l) => l.split(" ")[3])).toEqual([
      expect.stringMatching(/control\.json$/),
      expect.stringMatching(/edge\.json$/),
    ]);
  });

  it("run again, creates nothing", async () => {
    const before = writes().length;
    const { created } = await deploy({ env: "staging", dryRun: true, log, environment: environment(SECRETS) });
    expect(created).toEqual([]);
    expect(writes()).toHaveLength(before);
  });

  it("hands the SaaS zone and CNAME target to the control Worker for customer domains", async () => {
    const { configs } = await deploy({
      env: "staging",
      dryRun: true,
      log,
      environment: environment({
        ...SECRETS,
        QAXAL_SAAS_ZONE_ID: "023e105f4ecef8ad9ca31a8372d0c353",
        QAXAL_SAAS_CNAME_TARGET: "edge.qaxal.example",
      }),
    });
    expect(configs.control.env.staging.vars).toMatchObject({
      CF_ZONE_ID: "023e105f4ecef8ad9ca31a8372d0c353",
      SAAS_CNAME_TARGET: "edge.qaxal.example",
    });
  });

  it("accepts a required secret that is already set on the control Worker", async () => {
    cloudflare.state.secrets.set("qaxal-control-production", REQUIRED_SECRETS);
    const { created } = await deploy({ env: "production", dryRun: true, log, environment: environment() });
    expect(created).toContain(`KV namespace ${kvTitle("production", "COOKIE_VAULT")}`);
  });
});
