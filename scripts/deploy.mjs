// `npm run deploy -- --env staging|production [--dry-run] [--keep-secrets]` (`--help` lists the settings): takes one
// environment of Qaxal Edge to a Cloudflare account (docs/deploy.md).
//  1. checks the settings and secrets without calling anything;
//  2. preflight (scripts/deploy-account.mjs, read-only): account, R2, zone, Cloudflare for SaaS, Universal SSL, routes,
//     Custom Domains and DNS on the zone; any problem stops the deploy before anything is created;
//  3. creates what is missing (KV namespaces, queues, log bucket and its lifecycle rules, DNS records, fallback origin);
//  4. writes each Worker's config for the environment (.deploy/<env>/, git-ignored) with the real KV ids, routes and
//     every var the Workers need, so no later deploy blanks one, then `wrangler deploy`s control, then edge.
// Cloudflare's API is called through the official SDK; CLOUDFLARE_API_BASE_URL (which wrangler also honours) points
// it elsewhere (the tests' stand-in). `--dry-run` does 1–4 but only bundles the Workers.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { cloudflareClient, DeployError, explainApiError, preflight, provision } from "./deploy-account.mjs";
import { parseJsonc } from "./jsonc.mjs";
import { ROOT } from "./platform.mjs";

const ENVIRONMENTS = ["staging", "production"];
const ACCOUNT_SETTINGS = {
  CLOUDFLARE_ACCOUNT_ID: "the account to deploy to (dashboard → Workers & Pages → Account ID)",
  CLOUDFLARE_API_TOKEN:
    "an API token: Workers Scripts, Workers KV Storage, Queues, Workers R2 Storage, Workers Routes, DNS, SSL and Certificates: Edit; Zone: Read",
};
/** Per environment, as QAXAL_<ENV>_<KEY>: the names carry the environment, so one shell cannot deploy both to one zone. */
const ENVIRONMENT_SETTINGS = {
  ZONE: "the environment's own zone (e.g. qaxal-staging.net): PLATFORM_DOMAINS, infra hosts <name>.<zone>",
  OPERATOR_HOST: "the operator host, a first-level name on that zone (e.g. ops.<zone>), routed to the control Worker",
  FALLBACK_ORIGIN: "the custom hostname fallback origin, a first-level name on that zone (e.g. edge.<zone>): customers CNAME to it",
};
/**
 * Each Worker's secrets, uploaded with the deploy when set here. EDGE_AUTH_SECRET is shared: the control Worker checks
 * X-Edge-Auth with it, the edge derives its loader MAC key from it (workers/loader/edge-mac.ts).
 */
const SECRETS = {
  control: {
    required: ["ADMIN_TOKEN", "WEBHOOK_SECRET", "EDGE_AUTH_SECRET", "CF_API_TOKEN"],
    optional: ["SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY", "ALERT_WEBHOOK_URL", "ANALYTICS_API_TOKEN"],
  },
  edge: { required: ["EDGE_AUTH_SECRET"], optional: [] },
};
export const REQUIRED_SECRETS = [...new Set(Object.values(SECRETS).flatMap((s) => s.required))];
const KV_BINDINGS = ["ROUTING_MAP", "EDGE_CONFIG", "LOADER_TOKEN_MAP", "SITE_REGISTRY", "COOKIE_VAULT"];

const HELP = `npm run deploy -- --env staging|production [--dry-run] [--keep-secrets] [--settings FILE]

Deploys one environment: checks the account first (nothing is created when a check fails), creates what is missing,
then deploys the control Worker and the edge Worker. docs/deploy.md has the steps from an empty account.

Settings come from the shell, or from .deploy/<env>.env (KEY=value lines, git-ignored; --settings names another
file); the shell wins.
${Object.entries(ACCOUNT_SETTINGS)
  .map(([name, text]) => `  ${name.padEnd(32)}${text}`)
  .join("\n")}
${Object.entries(ENVIRONMENT_SETTINGS)
  .map(([key, text]) => `  ${`QAXAL_<ENV>_${key}`.padEnd(32)}${text}`)
  .join("\n")}
  (<ENV> is STAGING or PRODUCTION; the two environments must name different zones.)
  CLOUDFLARE_API_BASE_URL         optional: another API base (wrangler honours it too; the tests' stand-in)

Secrets, uploaded with the deploy to the Workers that use them:
${Object.entries(SECRETS)
  .map(
    ([worker, { required, optional }]) =>
      `  ${worker.padEnd(8)}${required.join(", ")} (required)${optional.length ? `; ${optional.join(", ")} (optional)` : ""}`,
  )
  .join("\n")}

Flags:
  --env NAME       staging or production
  --dry-run        check, create what is missing and write .deploy/<env>/*.json, but only bundle the Workers
  --keep-secrets   required secrets not in the shell must already be on their Worker (checked), not uploaded
  --settings FILE  read settings from FILE instead of .deploy/<env>.env
  --help           this text`;

/** The KV namespace title of a binding: `qaxal-production-routing-map`. */
export function kvTitle(env, binding) {
  return `qaxal-${env}-${binding.toLowerCase().replaceAll("_", "-")}`;
}

/** KEY=value lines (`export`, quotes and # comments allowed); a missing file is no settings. */
function readSettingsFile(path) {
  if (!existsSync(path)) return {};
  /** @type {Record<string, string>} */
  const settings = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^\s*(?:export\s+)?([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) settings[/** @type {string} */ (match[1])] = /** @type {string} */ (match[2]).replace(/^(['"])(.*)\1$/, "$2");
  }
  return settings;
}

/** A first-level name on the zone (`ops.qaxal.net` on `qaxal.net`): what Universal SSL's *.zone certificate covers. */
const firstLevelOn = (host, zone) => host.endsWith(`.${zone}`) && !host.slice(0, -zone.length - 1).includes(".");

/**
 * Everything that can be checked without the network: the environment, its settings, the secrets.
 * @param {string} envName @param {Record<string, string | undefined>} values @param {Record<string, string | undefined>} otherValues
 * @param {boolean} keepSecrets
 */
function checkSettings(envName, values, otherValues, keepSecrets) {
  if (!ENVIRONMENTS.includes(envName)) throw new DeployError(`--env must be staging or production (npm run deploy -- --help)`);
  const otherEnv = /** @type {string} */ (ENVIRONMENTS.find((e) => e !== envName));
  const name = (env, key) => `QAXAL_${env.toUpperCase()}_${key}`;
  const problems = [];
  for (const [setting, text] of Object.entries(ACCOUNT_SETTINGS)) if (!values[setting]) problems.push(`set ${setting}: ${text}`);
  for (const [key, text] of Object.entries(ENVIRONMENT_SETTINGS)) {
    if (!values[name(envName, key)]) problems.push(`set ${name(envName, key)}: ${text}`);
  }
  const zone = values[name(envName, "ZONE")]?.toLowerCase() ?? "";
  const operatorHost = values[name(envName, "OPERATOR_HOST")]?.toLowerCase() ?? "";
  const fallbackOrigin = values[name(envName, "FALLBACK_ORIGIN")]?.toLowerCase() ?? "";
  for (const [key, host] of [
    ["OPERATOR_HOST", operatorHost],
    ["FALLBACK_ORIGIN", fallbackOrigin],
  ]) {
    if (zone && host && !firstLevelOn(host, zone)) {
      problems.push(
        `${name(envName, key)}=${host} must be a first-level name on ${zone} (e.g. ${key === "OPERATOR_HOST" ? "ops" : "edge"}.${zone}): Universal SSL covers only those`,
      );
    }
  }
  if (operatorHost && operatorHost === fallbackOrigin)
    problems.push(`the operator host and the fallback origin must differ (${operatorHost})`);
  const otherZone = otherValues[name(otherEnv, "ZONE")]?.toLowerCase();
  if (zone && otherZone === zone) {
    problems.push(`${name(envName, "ZONE")} and ${name(otherEnv, "ZONE")} are both ${zone}: each environment needs its own zone`);
  }
  const unset = REQUIRED_SECRETS.filter((secret) => !values[secret]);
  if (unset.length > 0 && !keepSecrets) {
    problems.push(`set ${unset.join(", ")} (uploaded to the Workers), or pass --keep-secrets to keep the ones already on them`);
  }
  if (problems.length > 0) throw new DeployError(problems.join("\n"));
  return { otherEnv, zone, operatorHost, fallbackOrigin };
}

/** Every queue and bucket the control Worker's environment names. */
function resourcesOf(control) {
  const queues = new Set([
    ...control.queues.producers.map((p) => p.queue),
    ...control.queues.consumers.flatMap((c) => [c.queue, c.dead_letter_queue].filter(Boolean)),
  ]);
  return { queues: [...queues], buckets: control.r2_buckets.map((b) => b.bucket_name) };
}

/** The deploy fills these into every Worker section that declares them, at every deploy. */
const OWNED_VARS = ["OPERATOR_HOSTS", "PLATFORM_DOMAINS", "CF_ZONE_ID", "SAAS_CNAME_TARGET", "CF_ACCOUNT_ID", "CONFIG_CACHE_HOST"];

/** A var neither the committed section nor the deploy gives a value would reach the Worker blank: refused. */
function checkVars(raw, envName) {
  const section = raw.env[envName];
  const blank = Object.keys(section.vars).filter((name) => section.vars[name] === "" && !OWNED_VARS.includes(name));
  if (blank.length > 0)
    throw new DeployError(`${section.name} would get blank vars ${blank.join(", ")}: give them a value in its env.${envName} section`);
}

/** One environment's section of a wrangler config, made deployable: real KV ids, routes, the owned vars it declares. */
function deployableConfig(raw, envName, outDir, { ids, routes, owned }) {
  const { env: environments, $schema: _schema, ...top } = raw;
  const section = environments[envName];
  const vars = { ...section.vars, ...Object.fromEntries(Object.entries(owned).filter(([name]) => name in section.vars)) };
  return {
    ...top,
    main: relative(outDir, join(ROOT, top.main)),
    env: {
      [envName]: {
        ...section,
        kv_namespaces: section.kv_namespaces.map((kv) => ({ ...kv, id: ids[kvTitle(envName, kv.binding)] })),
        routes,
        // No workers.dev or preview hostname: the Workers answer only on the zone's hosts (the control Worker's API
        // would otherwise be reachable beside the operator host).
        workers_dev: false,
        preview_urls: false,
        vars,
      },
    },
  };
}

function wrangler(args, log) {
  log(`wrangler ${args.join(" ")}`);
  try {
    execFileSync(process.execPath, [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), ...args], {
      cwd: ROOT,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    });
  } catch {
    throw new DeployError(`wrangler ${args.slice(0, 3).join(" ")} failed: its own message is above`);
  }
}

/**
 * @param {{ env: string, dryRun?: boolean, keepSecrets?: boolean, log?: (line: string) => void,
 *   environment?: Record<string, string | undefined>, settingsDir?: string, settingsFile?: string }} options
 */
export async function deploy({
  env: envName,
  dryRun = false,
  keepSecrets = false,
  log = console.log,
  environment = process.env,
  settingsDir = join(ROOT, ".deploy"),
  settingsFile,
}) {
  const fromFile = (env) => readSettingsFile(env === envName && settingsFile ? settingsFile : join(settingsDir, `${env}.env`));
  // The shell wins over the file, except with an empty value.
  const shell = Object.fromEntries(Object.entries(environment).filter(([, value]) => value));
  const values = { ...fromFile(envName), ...shell };
  const otherValues = { ...fromFile(ENVIRONMENTS.find((e) => e !== envName) ?? ""), ...shell };
  const checked = checkSettings(envName, values, otherValues, keepSecrets);
  const accountId = /** @type {string} */ (values.CLOUDFLARE_ACCOUNT_ID);

  const edgeRaw = parseJsonc(readFileSync(join(ROOT, "wrangler.jsonc"), "utf8"));
  const controlRaw = parseJsonc(readFileSync(join(ROOT, "wrangler.control.jsonc"), "utf8"));
  checkVars(edgeRaw, envName);
  checkVars(controlRaw, envName);
  const name = (raw, env) => raw.env[env].name;
  const { queues, buckets } = resourcesOf(controlRaw.env[envName]);
  const ENV = envName.toUpperCase();
  /** @type {import("./deploy-account.mjs").Plan} */
  const plan = {
    env: envName,
    otherEnv: checked.otherEnv,
    accountId,
    zoneName: checked.zone,
    operatorHost: checked.operatorHost,
    fallbackOrigin: checked.fallbackOrigin,
    edgeName: name(edgeRaw, envName),
    controlName: name(controlRaw, envName),
    otherNames: [name(edgeRaw, checked.otherEnv), name(controlRaw, checked.otherEnv)],
    kvTitles: KV_BINDINGS.map((binding) => kvTitle(envName, binding)),
    queues,
    bucket: buckets[0],
    keepSecrets: Object.fromEntries(
      Object.entries(SECRETS)
        .map(([worker, { required }]) => [name(worker === "edge" ? edgeRaw : controlRaw, envName), required.filter((n) => !values[n])])
        .filter(([, names]) => names.length > 0),
    ),
    settingNames: { zone: `QAXAL_${ENV}_ZONE`, operatorHost: `QAXAL_${ENV}_OPERATOR_HOST`, fallbackOrigin: `QAXAL_${ENV}_FALLBACK_ORIGIN` },
  };

  const client = cloudflareClient({
    apiToken: /** @type {string} */ (values.CLOUDFLARE_API_TOKEN),
    baseURL: values.CLOUDFLARE_API_BASE_URL,
  });
  const { facts, ids, created } = await (async () => {
    const facts = await preflight(client, plan);
    return { facts, ...(await provision(client, plan, facts)) };
  })().catch((error) => {
    throw explainApiError(error);
  });
  for (const line of created) log(`created ${line}`);
  if (created.length === 0) log("everything on the account already exists");

  // Written at every deploy (wrangler replaces a Worker's vars with the config's), so no deploy blanks one.
  /** @type {Record<(typeof OWNED_VARS)[number], string>} */
  const owned = {
    OPERATOR_HOSTS: plan.operatorHost,
    PLATFORM_DOMAINS: plan.zoneName,
    CF_ZONE_ID: facts.zoneId,
    SAAS_CNAME_TARGET: plan.fallbackOrigin,
    CF_ACCOUNT_ID: accountId,
    // The host of the location cache's keys (docs/router.md): on the zone, so purge by URL reaches it; never a
    // container's infra host.
    CONFIG_CACHE_HOST: `config-cache.${plan.zoneName}`,
  };
  const outDir = join(ROOT, ".deploy", envName);
  mkdirSync(outDir, { recursive: true });
  const configs = {
    control: deployableConfig(controlRaw, envName, outDir, {
      ids,
      owned,
      // A route, not a Custom Domain: the most specific route pattern wins, so <operator host>/* takes the operator
      // host from the edge's */* and each operator call runs the control Worker alone. (Routes take precedence over
      // Custom Domains on the same host, so a Custom Domain here would never be reached.)
      routes: [{ pattern: `${plan.operatorHost}/*`, zone_name: plan.zoneName }],
    }),
    edge: deployableConfig(edgeRaw, envName, outDir, {
      ids,
      owned,
      // Every host of the zone: infra hosts (<name>.<zone> under the proxied *.<zone> record) and custom hostnames.
      routes: [{ pattern: "*/*", zone_name: plan.zoneName }],
    }),
  };
  for (const [worker, config] of Object.entries(configs))
    writeFileSync(join(outDir, `${worker}.json`), `${JSON.stringify(config, null, 2)}\n`);

  const uploads = Object.fromEntries(
    Object.entries(SECRETS).map(([worker, { required, optional }]) => [
      worker,
      Object.fromEntries([...required, ...optional].filter((n) => values[n]).map((n) => [n, values[n]])),
    ]),
  );
  const secretsFile = join(outDir, "secrets.json");
  try {
    for (const worker of ["control", "edge"]) {
      const args = ["deploy", "-c", join(outDir, `${worker}.json`), "--env", envName];
      if (dryRun) args.push("--dry-run", "--outdir", join(outDir, `dist-${worker}`));
      else {
        // Always a secrets file, even empty: with one, wrangler keeps the secrets already on the Worker.
        writeFileSync(secretsFile, JSON.stringify(uploads[worker]), { mode: 0o600 });
        args.push("--secrets-file", secretsFile);
      }
      wrangler(args, log);
    }
  } finally {
    rmSync(secretsFile, { force: true });
  }
  return { created, configs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      env: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      "keep-secrets": { type: "boolean", default: false },
      settings: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  try {
    await deploy({ env: values.env ?? "", dryRun: values["dry-run"], keepSecrets: values["keep-secrets"], settingsFile: values.settings });
    console.log(`deployed ${values.env}${values["dry-run"] ? " (dry run: bundled only)" : ""}`);
  } catch (error) {
    if (!(error instanceof DeployError)) throw error;
    console.error(`deploy refused:\n${error.message.replace(/^/gm, "  - ")}`);
    process.exit(1);
  }
}
