// What `npm run deploy` asks of and creates on the Cloudflare account, through the official SDK (cloudflare-typescript:
// envelopes, auto-pagination, retries with backoff on 429/5xx and on connection errors). `preflight` only reads and
// refuses with every problem it finds, each naming its fix; `provision` then creates what is missing, and only that.
// Docs: docs/deploy.md.
import Cloudflare from "cloudflare";
import { V4PagePaginationArray } from "cloudflare/pagination";

export class DeployError extends Error {}

/** Access-log retention in LOG_BUCKET (docs/privacy.md): records 90 days, dead-lettered log records 30 days. */
const LOG_RULES = [
  { id: "logs-90-days", prefix: "logs/", days: 90 },
  { id: "log-dead-letters-30-days", prefix: "dead-letters/logs/", days: 30 },
].map(({ id, prefix, days }) => ({
  id,
  enabled: true,
  conditions: { prefix },
  deleteObjectsTransition: { condition: /** @type {const} */ ({ type: "Age", maxAge: days * 86_400 }) },
}));

/** Any Cloudflare answer, even a 404, means the API is reachable; these are what a deploy cannot do without. */
const PERMISSION = {
  kv: "Workers KV Storage: Edit",
  queues: "Queues: Edit",
  r2: "Workers R2 Storage: Edit",
  zone: "Zone: Read",
  saas: "SSL and Certificates: Edit",
  routes: "Workers Routes: Edit",
  scripts: "Workers Scripts: Edit",
  dns: "DNS: Edit",
};

/**
 * The SDK retries a 429 after its Retry-After. Cloudflare blocks a token for five minutes once it passes 1,200
 * requests per five minutes (developers.cloudflare.com/fundamentals/api/reference/limits/): waiting that out inside
 * a deploy helps nobody, so a long Retry-After stops the retries (the SDK obeys `x-should-retry`) and the deploy says
 * when to run again.
 * @param {Parameters<typeof fetch>[0]} input @param {Parameters<typeof fetch>[1]} [init]
 */
async function fetchWithoutLongWaits(input, init) {
  const response = await fetch(input, init);
  if (response.status !== 429 || Number(response.headers.get("retry-after") ?? 0) <= 30) return response;
  const headers = new Headers(response.headers);
  headers.set("x-should-retry", "false");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** @param {{ apiToken: string, baseURL?: string }} options */
export function cloudflareClient({ apiToken, baseURL }) {
  return new Cloudflare({ apiToken, baseURL: baseURL || undefined, maxRetries: 2, fetch: fetchWithoutLongWaits });
}

/** @param {unknown} error @param {number} code */
const hasCode = (error, code) => error instanceof Cloudflare.APIError && error.errors.some((e) => e.code === code);
/** @param {unknown} error @param {number} status */
const hasStatus = (error, status) => error instanceof Cloudflare.APIError && error.status === status;

/**
 * Runs one step against the API; what every step can meet (no network, a refused token, the rate limit) becomes one
 * line naming the fix instead of a stack.
 * @template T @param {string} what @param {keyof typeof PERMISSION} permission @param {() => Promise<T>} run
 * @returns {Promise<T>}
 */
async function step(what, permission, run) {
  try {
    return await run();
  } catch (error) {
    if (error instanceof Cloudflare.APIConnectionError) {
      const cause = /** @type {{ cause?: { cause?: { code?: string }, code?: string } }} */ (error).cause;
      const code = cause?.cause?.code ?? cause?.code ?? error.message;
      throw new DeployError(`cannot reach Cloudflare's API while ${what} (${code}): check the network connection or proxy, then run again`);
    }
    if (hasStatus(error, 429)) {
      const wait = /** @type {InstanceType<typeof Cloudflare.APIError>} */ (error).headers?.get("retry-after");
      throw new DeployError(
        `Cloudflare's API rate limit was reached while ${what} (1,200 requests per 5 minutes per user): run again in ${wait ?? "a few"} seconds`,
      );
    }
    if (hasStatus(error, 401) || hasCode(error, 10000) || hasCode(error, 9109)) {
      throw new DeployError(
        `CLOUDFLARE_API_TOKEN was refused while ${what}: give the token ${PERMISSION[permission]} on this account (dashboard → My Profile → API Tokens)`,
      );
    }
    if (hasCode(error, 7003) && /account/i.test(String(error))) {
      throw new DeployError(`account CLOUDFLARE_ACCOUNT_ID not found: copy the Account ID from the dashboard (Workers & Pages → Overview)`);
    }
    throw error;
  }
}

/**
 * Any other refusal from the API, as one line: what was asked, the status and Cloudflare's own codes and messages.
 * @param {unknown} error
 */
export function explainApiError(error) {
  if (!(error instanceof Cloudflare.APIError)) return error;
  const codes = error.errors.map((e) => `${e.code}: ${e.message}`).join("; ");
  return new DeployError(`Cloudflare's API answered ${error.status ?? "no status"}${codes ? ` (${codes})` : ""}`);
}

/** @param {Cloudflare} client @param {string} accountId */
async function bucketNames(client, accountId) {
  // cloudflare-typescript types the bucket list as one page; its result_info.cursor leads to the next.
  const names = new Set();
  let cursor = "";
  do {
    const page = /** @type {{ result: { buckets: { name: string }[] }, result_info?: { cursor?: string } }} */ (
      await client.get(`/accounts/${accountId}/r2/buckets`, { query: { per_page: 1000, ...(cursor ? { cursor } : {}) } })
    );
    for (const bucket of page.result.buckets) names.add(bucket.name);
    cursor = page.result_info?.cursor ?? "";
  } while (cursor);
  return names;
}

/** @param {{ id: string, conditions?: { prefix?: string }, deleteObjectsTransition?: { condition?: { maxAge?: number } } }[]} rules */
const hasLogRules = (rules) =>
  LOG_RULES.every((want) =>
    rules.some(
      (rule) =>
        rule.id === want.id &&
        rule.conditions?.prefix === want.conditions.prefix &&
        rule.deleteObjectsTransition?.condition?.maxAge === want.deleteObjectsTransition.condition.maxAge,
    ),
  );

/**
 * @typedef {{
 *   env: string, otherEnv: string, accountId: string, zoneName: string, operatorHost: string, fallbackOrigin: string,
 *   edgeName: string, controlName: string, otherNames: string[], kvTitles: string[], queues: string[],
 *   bucket: string, keepSecrets: Record<string, string[]>, settingNames: { zone: string, operatorHost: string, fallbackOrigin: string },
 * }} Plan
 * @typedef {Awaited<ReturnType<typeof preflight>>} Facts
 */

/** The DNS record comment that marks a zone as one environment's: a second environment on that zone is refused. */
const ownerMark = (env) => `qaxal-edge ${env}: managed by npm run deploy`;

/**
 * Reads everything the deploy depends on and refuses, creating nothing, when any of it is wrong.
 * @param {Cloudflare} client @param {Plan} plan
 */
export async function preflight(client, plan) {
  const { accountId: account_id, zoneName, operatorHost, fallbackOrigin, settingNames } = plan;
  const problems = [];

  // The first call also shows that the account is reachable with this token.
  const namespaces = await step("listing KV namespaces", "kv", async () => {
    const found = new Map();
    for await (const n of client.kv.namespaces.list({ account_id, per_page: 100 })) found.set(n.title, n.id);
    return found;
  });

  /** @type {Set<string> | null} */
  let buckets = null;
  try {
    buckets = await step("listing R2 buckets", "r2", () => bucketNames(client, account_id));
  } catch (error) {
    if (!hasCode(error, 10042)) throw error;
    problems.push(
      "R2 is not enabled on this account: dashboard → R2 Object Storage → enable R2 (a one-time purchase step, free tier included), then run again",
    );
  }

  const queues = await step("listing queues", "queues", async () => {
    const found = new Set();
    const list = client.getAPIList(`/accounts/${account_id}/queues`, V4PagePaginationArray, { query: { per_page: 100 } });
    for await (const q of /** @type {AsyncIterable<{ queue_name: string }>} */ (list)) found.add(q.queue_name);
    return found;
  });

  const zone = await step(`looking up the zone ${zoneName}`, "zone", async () => {
    for await (const z of client.zones.list({ name: zoneName, account: { id: account_id } })) return z;
    return null;
  });
  if (!zone) {
    problems.push(
      `zone ${zoneName} (${settingNames.zone}) is not on this account: add it (dashboard → Add a domain) and wait until it is active`,
    );
    throw new DeployError(problems.join("\n"));
  }
  if (zone.status !== "active") {
    problems.push(`zone ${zoneName} is ${zone.status}, not active: finish its nameserver change (dashboard → ${zoneName} → Overview)`);
  }
  const zone_id = zone.id;

  /** @type {string | null} */
  let currentFallback = null;
  const noSaas = (error) => hasCode(error, 1404) || hasStatus(error, 403);
  const saasProblem = `Cloudflare for SaaS is not enabled on ${zoneName}: dashboard → ${zoneName} → SSL/TLS → Custom Hostnames → Enable`;
  try {
    const result = await step("reading the custom hostname fallback origin", "saas", () =>
      client.customHostnames.fallbackOrigin.get({ zone_id }),
    );
    currentFallback = /** @type {{ origin?: string }} */ (result)?.origin ?? null;
  } catch (error) {
    if (noSaas(error)) problems.push(saasProblem);
    else if (hasStatus(error, 404)) {
      // No fallback origin yet (a first deploy): the custom hostname list shows whether the zone has SaaS at all.
      await step("listing custom hostnames", "saas", () => client.customHostnames.list({ zone_id, per_page: 5 })).catch((listError) => {
        if (!noSaas(listError)) throw listError;
        problems.push(saasProblem);
      });
    } else throw error;
  }
  if (currentFallback && currentFallback !== fallbackOrigin) {
    problems.push(
      `the fallback origin of ${zoneName} is ${currentFallback}, not ${fallbackOrigin}: customers' CNAMEs depend on it; set ${settingNames.fallbackOrigin}=${currentFallback}, or change it in SSL/TLS → Custom Hostnames first`,
    );
  }

  const ssl = await step("reading Universal SSL", "zone", () => client.ssl.universal.settings.get({ zone_id }));
  if (ssl.enabled === false) {
    problems.push(
      `Universal SSL is off on ${zoneName}: the infra, operator and fallback hosts need its *.${zoneName} certificate; dashboard → SSL/TLS → Edge Certificates → Disable Universal SSL off`,
    );
  }

  const routes = await step("listing Workers routes", "routes", async () => {
    const found = [];
    for await (const r of client.workers.routes.list({ zone_id })) found.push(r);
    return found;
  });
  const other = (script) => (plan.otherNames.includes(script ?? "") ? ` (environment ${plan.otherEnv})` : "");
  for (const route of routes) {
    if (plan.otherNames.includes(route.script ?? "")) {
      problems.push(
        `${zoneName} already serves environment ${plan.otherEnv} (route ${route.pattern} → ${route.script}): give ${plan.env} its own zone (${settingNames.zone})`,
      );
    } else if (route.pattern === "*/*" && route.script !== plan.edgeName) {
      problems.push(
        `*/* on ${zoneName} is held by ${route.script ?? "a route without a Worker"}: remove that route (Workers Routes on ${zoneName}) or use another zone`,
      );
    } else if (route.pattern === `${operatorHost}/*` && route.script !== plan.controlName) {
      problems.push(
        `${operatorHost}/* is held by ${route.script ?? "a route without a Worker"}${other(route.script)}: remove that route or choose another ${settingNames.operatorHost}`,
      );
    }
  }

  const domains = await step("listing Workers Custom Domains", "scripts", async () => {
    const found = [];
    for await (const d of client.workers.domains.list({ account_id, zone_id })) found.push(d);
    return found;
  });
  for (const domain of domains) {
    if (domain.hostname === operatorHost || domain.hostname === fallbackOrigin) {
      problems.push(
        `${domain.hostname} is a Custom Domain of ${domain.service}${other(domain.service)}: delete it (Workers & Pages → ${domain.service} → Settings → Domains & Routes); the deploy serves this host itself`,
      );
    } else if (plan.otherNames.includes(domain.service ?? "")) {
      problems.push(
        `${zoneName} already serves environment ${plan.otherEnv} (Custom Domain ${domain.hostname}): give ${plan.env} its own zone (${settingNames.zone})`,
      );
    }
  }

  const dns = await step("reading DNS records", "dns", async () => {
    /** @type {Record<string, { proxied?: boolean, comment?: string | null, type: string }[]>} */
    const byName = {};
    for (const name of [`*.${zoneName}`, operatorHost, fallbackOrigin]) {
      byName[name] = [];
      for await (const r of client.dns.records.list({ zone_id, name: { exact: name } })) byName[name].push(r);
    }
    return byName;
  });
  for (const [name, records] of Object.entries(dns)) {
    const mark = records.map((r) => r.comment ?? "").find((c) => c.startsWith("qaxal-edge "));
    if (mark && mark !== ownerMark(plan.env)) {
      problems.push(
        `${zoneName} already carries environment ${mark.split(" ")[1]?.replace(":", "")} (DNS ${name}): give ${plan.env} its own zone (${settingNames.zone})`,
      );
    }
    const unproxied = records.find((r) => r.proxied === false);
    if (unproxied) {
      problems.push(
        `DNS ${name} ${unproxied.type} is DNS only: Workers and the certificate need it proxied; turn the proxy on (orange cloud) or delete it`,
      );
    }
  }

  // --keep-secrets: each required secret missing from the shell must be on its Worker already.
  for (const [worker, names] of Object.entries(plan.keepSecrets)) {
    const onWorker = await step(`listing the secrets of ${worker}`, "scripts", async () => {
      const found = new Set();
      try {
        for await (const s of client.workers.scripts.secrets.list(worker, { account_id })) found.add(s.name);
      } catch (error) {
        if (!hasStatus(error, 404)) throw error;
      }
      return found;
    });
    const unset = names.filter((name) => !onWorker.has(name));
    if (unset.length > 0) {
      problems.push(
        `${unset.join(", ")} not set on ${worker}: export ${unset.join(", ")} (uploaded with the deploy) or run npx wrangler secret put <NAME> --name ${worker}`,
      );
    }
  }

  let lifecycleRules = null;
  if (buckets?.has(plan.bucket)) {
    lifecycleRules = await step("reading the log bucket's lifecycle rules", "r2", async () => {
      const result = await client.r2.buckets.lifecycle.get(plan.bucket, { account_id });
      return /** @type {any[]} */ (result.rules ?? []);
    });
  }

  if (problems.length > 0) throw new DeployError(problems.join("\n"));
  return { namespaces, queues, buckets: buckets ?? new Set(), zoneId: zone_id, currentFallback, dns, lifecycleRules };
}

/**
 * Creates what preflight found missing: KV namespaces, queues, the log bucket and its lifecycle rules, the proxied
 * DNS records (the wildcard that carries the infra and operator hosts, the fallback origin) and the fallback origin.
 * @param {Cloudflare} client @param {Plan} plan @param {Facts} facts
 */
export async function provision(client, plan, facts) {
  const { accountId: account_id } = plan;
  const zone_id = facts.zoneId;
  const created = [];
  const ids = {};
  for (const title of plan.kvTitles) {
    let namespaceId = facts.namespaces.get(title);
    if (!namespaceId) {
      namespaceId = (await step(`creating KV namespace ${title}`, "kv", () => client.kv.namespaces.create({ account_id, title }))).id;
      created.push(`KV namespace ${title}`);
    }
    ids[title] = namespaceId;
  }
  for (const queue_name of plan.queues.filter((q) => !facts.queues.has(q))) {
    await step(`creating queue ${queue_name}`, "queues", () => client.queues.create({ account_id, queue_name }));
    created.push(`queue ${queue_name}`);
  }
  if (!facts.buckets.has(plan.bucket)) {
    await step(`creating R2 bucket ${plan.bucket}`, "r2", () => client.r2.buckets.create({ account_id, name: plan.bucket }));
    created.push(`R2 bucket ${plan.bucket}`);
  }
  const rules = facts.lifecycleRules ?? [];
  if (!hasLogRules(rules)) {
    const kept = rules.filter((rule) => !LOG_RULES.some((want) => want.id === rule.id));
    await step("setting the log bucket's lifecycle rules", "r2", () =>
      client.r2.buckets.lifecycle.update(plan.bucket, { account_id, rules: [...kept, ...LOG_RULES] }),
    );
    created.push(`lifecycle rules ${LOG_RULES.map((r) => r.id).join(", ")} on ${plan.bucket}`);
  }
  // 100:: is the discard prefix Cloudflare documents for proxied hosts that only a Worker answers.
  for (const name of [`*.${plan.zoneName}`, plan.fallbackOrigin]) {
    if (facts.dns[name]?.length) continue;
    await step(`creating DNS record ${name}`, "dns", () =>
      client.dns.records.create({ zone_id, type: "AAAA", name, content: "100::", proxied: true, ttl: 1, comment: ownerMark(plan.env) }),
    );
    created.push(`DNS ${name} AAAA 100:: (proxied)`);
  }
  if (!facts.currentFallback) {
    await step("setting the custom hostname fallback origin", "saas", () =>
      client.customHostnames.fallbackOrigin.update({ zone_id, origin: plan.fallbackOrigin }),
    );
    created.push(`fallback origin ${plan.fallbackOrigin}`);
  }
  return { ids, created };
}
