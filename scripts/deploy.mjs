// `npm run deploy -- --env staging|production [--dry-run]`: takes Qaxal Edge to a Cloudflare account.
//  1. checks the settings and that every required secret is set (on the Worker already, or in this shell);
//  2. creates what is missing, idempotently: the five KV namespaces, the queues, the R2 bucket;
//  3. writes each Worker's config for that environment with the real KV ids, routes and operator host
//     (.deploy/<env>/, git-ignored), then deploys the control Worker, then the edge Worker (whose bindings point
//     at the control Worker's Durable Object class and service).
// Cloudflare's REST API is called directly (the same endpoints wrangler uses); CLOUDFLARE_API_BASE_URL, which wrangler
// also honours, points both at another base. `--dry-run` creates resources but only bundles the Workers.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { parseJsonc } from "./jsonc.mjs";
import { ROOT } from "./platform.mjs";

export const REQUIRED_SECRETS = ["ADMIN_TOKEN", "WEBHOOK_SECRET", "EDGE_AUTH_SECRET"];
/** Uploaded when set in the shell; the control Worker works without them (see docs/deploy.md). */
export const OPTIONAL_SECRETS = ["SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY", "CF_API_TOKEN", "ALERT_WEBHOOK_URL", "ANALYTICS_API_TOKEN"];
const SETTINGS = {
  CLOUDFLARE_ACCOUNT_ID: "the Cloudflare account to deploy to",
  CLOUDFLARE_API_TOKEN: "an API token with Workers, KV, Queues, R2 and Workers Routes edit rights",
  QAXAL_ZONE_NAME: "the zone whose hosts the edge Worker serves (its route is */* on that zone)",
  QAXAL_OPERATOR_HOST: "the operator host, served by the control Worker as a Custom Domain",
};
/** Customer domains (docs/custom-domains.md): optional settings, handed to the control Worker as these vars. */
const CUSTOM_DOMAIN_VARS = { QAXAL_SAAS_ZONE_ID: "CF_ZONE_ID", QAXAL_SAAS_CNAME_TARGET: "SAAS_CNAME_TARGET" };
const KV_BINDINGS = ["ROUTING_MAP", "EDGE_CONFIG", "LOADER_TOKEN_MAP", "SITE_REGISTRY", "COOKIE_VAULT"];

class DeployError extends Error {}

/** The KV namespace title of a binding: `qaxal-production-routing-map`. */
export function kvTitle(env, binding) {
  return `qaxal-${env}-${binding.toLowerCase().replaceAll("_", "-")}`;
}

function apiClient(settings, apiBase = "https://api.cloudflare.com/client/v4") {
  const base = apiBase.replace(/\/+$/, "");
  const account = `${base}/accounts/${settings.CLOUDFLARE_ACCOUNT_ID}`;
  return async (method, path, body) => {
    const response = await fetch(`${account}${path}`, {
      method,
      headers: { Authorization: `Bearer ${settings.CLOUDFLARE_API_TOKEN}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const envelope = await response.json().catch(() => ({}));
    if (response.status === 404 && method === "GET") return null;
    if (!response.ok || envelope.success === false) {
      const errors = (envelope.errors ?? []).map((e) => `${e.code}: ${e.message}`).join("; ");
      throw new DeployError(`${method} ${path} failed with ${response.status}${errors ? ` (${errors})` : ""}`);
    }
    return envelope.result;
  };
}

/** Every queue and bucket the control Worker's environment names. */
function resourcesOf(control) {
  const queues = new Set([
    ...control.queues.producers.map((p) => p.queue),
    ...control.queues.consumers.flatMap((c) => [c.queue, c.dead_letter_queue].filter(Boolean)),
  ]);
  return { queues: [...queues], buckets: control.r2_buckets.map((b) => b.bucket_name) };
}

async function ensureResources(api, envName, control, log) {
  const created = [];
  const namespaces = await listKv(api);
  const ids = {};
  for (const binding of KV_BINDINGS) {
    const title = kvTitle(envName, binding);
    let found = namespaces.find((n) => n.title === title);
    if (!found) {
      found = await api("POST", "/storage/kv/namespaces", { title });
      created.push(`KV namespace ${title}`);
    }
    ids[binding] = found.id;
  }
  const { queues, buckets } = resourcesOf(control);
  const existingQueues = new Set(((await api("GET", "/queues")) ?? []).map((q) => q.queue_name));
  for (const queue of queues.filter((q) => !existingQueues.has(q))) {
    await api("POST", "/queues", { queue_name: queue });
    created.push(`queue ${queue}`);
  }
  const existingBuckets = new Set(((await api("GET", "/r2/buckets"))?.buckets ?? []).map((b) => b.name));
  for (const bucket of buckets.filter((b) => !existingBuckets.has(b))) {
    await api("POST", "/r2/buckets", { name: bucket });
    created.push(`R2 bucket ${bucket}`);
  }
  for (const line of created) log(`created ${line}`);
  if (created.length === 0) log("every KV namespace, queue and bucket already exists");
  return { ids, created };
}

async function listKv(api) {
  const all = [];
  for (let page = 1; ; page++) {
    const batch = (await api("GET", `/storage/kv/namespaces?per_page=100&page=${page}`)) ?? [];
    all.push(...batch);
    if (batch.length < 100) return all;
  }
}

/** One environment's section of a wrangler config, made deployable: real KV ids, routes, vars, main path. */
function deployableConfig(raw, envName, outDir, { ids, routes, vars }) {
  const { env: environments, $schema: _schema, ...top } = raw;
  const section = environments[envName];
  const config = {
    ...top,
    main: relative(outDir, join(ROOT, top.main)),
    env: {
      [envName]: {
        ...section,
        kv_namespaces: section.kv_namespaces.map((kv) => ({ ...kv, id: ids[kv.binding] })),
        routes,
        vars: { ...section.vars, ...vars },
      },
    },
  };
  return config;
}

function wrangler(args, log) {
  log(`wrangler ${args.join(" ")}`);
  execFileSync(process.execPath, [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), ...args], {
    cwd: ROOT,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
}

/**
 * @param {{ env: string, dryRun?: boolean, log?: (line: string) => void, environment?: Record<string, string | undefined> }} options
 */
export async function deploy({ env: envName, dryRun = false, log = console.log, environment = process.env }) {
  if (envName !== "staging" && envName !== "production") throw new DeployError("--env must be staging or production");
  const missingSettings = Object.keys(SETTINGS).filter((name) => !environment[name]);
  if (missingSettings.length > 0) {
    throw new DeployError(`set ${missingSettings.map((n) => `${n} (${SETTINGS[n]})`).join(", ")} before deploying`);
  }
  const settings = Object.fromEntries(Object.keys(SETTINGS).map((name) => [name, environment[name]]));
  const api = apiClient(settings, environment.CLOUDFLARE_API_BASE_URL);
  const edgeRaw = parseJsonc(readFileSync(join(ROOT, "wrangler.jsonc"), "utf8"));
  const controlRaw = parseJsonc(readFileSync(join(ROOT, "wrangler.control.jsonc"), "utf8"));
  const controlName = controlRaw.env[envName].name;

  // Secrets first: nothing is created while one is missing.
  const onWorker = new Set(((await api("GET", `/workers/scripts/${controlName}/secrets`)) ?? []).map((s) => s.name));
  const unset = REQUIRED_SECRETS.filter((name) => !onWorker.has(name) && !environment[name]);
  if (unset.length > 0) {
    throw new DeployError(
      `required secret${unset.length > 1 ? "s" : ""} ${unset.join(", ")} not set on ${controlName}: export ${unset.join(", ")} in this shell (uploaded with the deploy) or run wrangler secret put`,
    );
  }
  const upload = Object.fromEntries(
    [...REQUIRED_SECRETS, ...OPTIONAL_SECRETS].filter((n) => environment[n]).map((n) => [n, environment[n]]),
  );

  const { ids, created } = await ensureResources(api, envName, controlRaw.env[envName], log);

  const outDir = join(ROOT, ".deploy", envName);
  mkdirSync(outDir, { recursive: true });
  const configs = {
    control: deployableConfig(controlRaw, envName, outDir, {
      ids,
      routes: [{ pattern: settings.QAXAL_OPERATOR_HOST, custom_domain: true }],
      vars: {
        ...Object.fromEntries(
          Object.entries(CUSTOM_DOMAIN_VARS).flatMap(([setting, name]) => (environment[setting] ? [[name, environment[setting]]] : [])),
        ),
        // Reports read Analytics Engine's SQL API of this account once its token is uploaded (docs/operate.md).
        ...(environment.ANALYTICS_API_TOKEN ? { CF_ACCOUNT_ID: settings.CLOUDFLARE_ACCOUNT_ID } : {}),
      },
    }),
    edge: deployableConfig(edgeRaw, envName, outDir, {
      ids,
      // Custom Domains (the operator host) take precedence over routes, so */* leaves the control Worker's host alone.
      routes: [{ pattern: "*/*", zone_name: settings.QAXAL_ZONE_NAME }],
      vars: { OPERATOR_HOSTS: settings.QAXAL_OPERATOR_HOST },
    }),
  };
  for (const [name, config] of Object.entries(configs)) writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(config, null, 2)}\n`);

  const secretsFile = join(outDir, "secrets.json");
  try {
    for (const name of ["control", "edge"]) {
      const args = ["deploy", "-c", join(outDir, `${name}.json`), "--env", envName];
      if (dryRun) args.push("--dry-run", "--outdir", join(outDir, `dist-${name}`));
      if (name === "control" && Object.keys(upload).length > 0 && !dryRun) {
        writeFileSync(secretsFile, JSON.stringify(upload), { mode: 0o600 });
        args.push("--secrets-file", secretsFile);
      }
      wrangler(args, log);
    }
  } finally {
    rmSync(secretsFile, { force: true });
  }
  return { created, configs, uploadedSecrets: dryRun ? [] : Object.keys(upload) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { env: { type: "string" }, "dry-run": { type: "boolean", default: false } } });
  try {
    await deploy({ env: values.env ?? "", dryRun: values["dry-run"] });
    console.log(`deployed ${values.env}${values["dry-run"] ? " (dry run: bundled only)" : ""}`);
  } catch (error) {
    if (!(error instanceof DeployError)) throw error;
    console.error(`deploy: ${error.message}`);
    process.exit(1);
  }
}
