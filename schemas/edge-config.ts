// EdgeConfig: the value stored in EDGE_CONFIG for each container (CONTRACT.md "EdgeConfig").
import * as v from "valibot";
import {
  ContainerIdSchema,
  CookieNameSchema,
  HostSchema,
  jsonObject,
  LOADER_TOKEN,
  OriginSchema,
  PublicHostSchema,
  RoutePathSchema,
  VersionSchema,
} from "./fields";

/** Browsers cap cookie lifetimes at 400 days; anything longer would be silently shortened by them anyway. */
const MAX_COOKIE_DAYS = 400;

const ENTITLEMENTS = ["cookie_restoration", "adblock_detection", "bot_detection"] as const;
type Entitlement = (typeof ENTITLEMENTS)[number];

const UpstreamSchema = v.pipe(
  v.string("upstream must be a string"),
  v.check((value) => {
    try {
      const url = new URL(value);
      return (
        (url.protocol === "https:" || url.protocol === "http:") &&
        url.origin === value.replace(/\/$/, "") &&
        url.username === "" &&
        url.password === ""
      );
    } catch {
      return false;
    }
  }, "upstream must be an origin like https://sgtm.example (no path, query or credentials)"),
  v.description(
    "the sGTM container's origin, https without a path, e.g. https://sgtm.shop1.example (http only when ALLOW_INSECURE_UPSTREAM is true)",
  ),
  v.transform((value) => value.replace(/\/$/, "")),
);

const CookieKeeperSchema = v.strictObject({
  enabled: v.boolean("enabled must be a boolean"),
  cookies: v.optional(v.pipe(v.array(CookieNameSchema), v.description("cookie names to keep alive; a trailing * matches a prefix")), [
    "_ga",
    "_ga_*",
    "_fbp",
    "FPID",
  ]),
  maxAgeDays: v.optional(
    v.pipe(
      v.number("maxAgeDays must be a number"),
      v.integer("maxAgeDays must be an integer"),
      v.minValue(1, "maxAgeDays must be >= 1"),
      v.description("lifetime given to kept cookies, in days; values above 400 (the browsers' cap) become 400"),
      v.transform((days) => Math.min(days, MAX_COOKIE_DAYS)),
    ),
    395,
  ),
  httpOnly: v.optional(v.pipe(v.array(CookieNameSchema), v.description("kept cookies that also get HttpOnly")), []),
});

const ToggleSchema = v.strictObject({ enabled: v.boolean("enabled must be a boolean") });

/** `truncate`: the upstream sees IPv4 cut to /24 and IPv6 to /48; `drop`: no client IP at all. */
const IP_ANONYMIZATION_MODES = ["truncate", "drop"] as const;
const IpAnonymizationSchema = v.strictObject({
  enabled: v.boolean("enabled must be a boolean"),
  mode: v.optional(v.picklist(IP_ANONYMIZATION_MODES, "mode must be truncate or drop"), "truncate"),
});

/** `tag`: the upstream gets the verdict as headers; `block`: known bots are answered at the edge. */
const BOT_ACTIONS = ["tag", "block"] as const;
const BotDetectionSchema = v.strictObject({
  enabled: v.boolean("enabled must be a boolean"),
  action: v.optional(v.picklist(BOT_ACTIONS, "action must be tag or block"), "tag"),
});

// An array here would otherwise pass as {} and switch every module off without a word.
const ModulesSchema = jsonObject(
  v.strictObject({
    cookieKeeper: v.optional(CookieKeeperSchema, { enabled: false }),
    cookieRestoration: v.optional(ToggleSchema, { enabled: false }),
    adblockDetection: v.optional(ToggleSchema, { enabled: false }),
    geoHeaders: v.optional(ToggleSchema, { enabled: false }),
    ipAnonymization: v.optional(IpAnonymizationSchema, { enabled: false }),
    botDetection: v.optional(BotDetectionSchema, { enabled: false }),
  }),
  "modules must be an object",
);

/** GTM's own id format; `G-` is a Google tag (GA4) id, loaded as gtag.js instead of gtm.js. */
const GTM_ID = /^(GTM|G)-[A-Z0-9]{4,16}$/;

// A GTM environment (Admin > Environments > snippet): both parameters together select the environment's version.
const GtmEnvironmentSchema = v.strictObject({
  auth: v.pipe(
    v.string("gtmEnvironment.auth must be a string"),
    v.regex(/^[A-Za-z0-9_-]{8,64}$/, "gtmEnvironment.auth must be the gtm_auth value: 8-64 characters of A-Z a-z 0-9 _ -"),
  ),
  preview: v.pipe(
    v.string("gtmEnvironment.preview must be a string"),
    v.regex(/^env-[0-9]{1,9}$/, "gtmEnvironment.preview must be the gtm_preview value, like env-5"),
  ),
});

// The fields an operator or the control plane submits (CONTRACT.md "EdgeConfig").
const submittedEntries = {
  containerId: v.pipe(ContainerIdSchema, v.description("the container's id; must equal the id in the URL")),
  version: v.pipe(VersionSchema, v.description("integer >= 1; each change needs a higher version than the last one accepted")),
  upstream: UpstreamSchema,
  infraHosts: v.optional(
    v.pipe(v.array(HostSchema), v.description("edge host names of this container (e.g. shop1.edge.example); cookies stay host-only there")),
    [],
  ),
  publicHosts: v.optional(
    v.pipe(
      v.array(PublicHostSchema),
      v.description("the customer's tracking hosts (ss.shop1.example) or host/prefix mounts (www.shop1.example/metrics)"),
    ),
    [],
  ),
  loaderToken: v.pipe(
    v.string("loaderToken must be a string"),
    v.regex(LOADER_TOKEN, "loaderToken must be 6-64 characters of A-Z a-z 0-9 _ -"),
    v.description("the token in the loader's URL, <loaderPath><token>.js"),
  ),
  gtmId: v.pipe(
    v.string("gtmId must be a string"),
    v.regex(GTM_ID, "gtmId must look like GTM-ABC123 or G-ABC123"),
    v.description("the web container (GTM-…) or Google tag (G-…) the loader injects"),
  ),
  gtmEnvironment: v.optional(v.pipe(GtmEnvironmentSchema, v.description("a GTM environment: gtm_auth and gtm_preview from its snippet"))),
  // The global array GTM or gtag reads (the snippet's `l` parameter); a property name on window.
  dataLayer: v.optional(
    v.pipe(
      v.string("dataLayer must be a string"),
      v.regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/, "dataLayer must be a JavaScript identifier of at most 64 characters"),
      v.description("the global array GTM or gtag reads (the snippet's l parameter)"),
    ),
    "dataLayer",
  ),
  // The first-party cookie that keys COOKIE_VAULT backups (FPID: the edge issues it; another name: the site does).
  identityCookie: v.optional(
    v.pipe(CookieNameSchema, v.description("the first-party cookie that keys cookie backups (FPID: the edge issues it)")),
    "FPID",
  ),
  allowedOrigins: v.optional(
    v.pipe(v.array(OriginSchema), v.description("page origins allowed to make credentialed requests, besides https:// + each public host")),
    [],
  ),
  entitlements: v.optional(
    v.pipe(
      v.array(v.picklist(ENTITLEMENTS, `entitlement must be one of ${ENTITLEMENTS.join(", ")}`)),
      v.description("paid features this container may use; a module runs only when enabled and entitled"),
    ),
    [],
  ),
  modules: v.optional(v.pipe(ModulesSchema, v.description("feature switches; every module is off unless enabled")), {}),
  proxyPath: v.optional(v.pipe(RoutePathSchema, v.description("the obfuscated proxy endpoint")), "/k/"),
  proxyParam: v.optional(
    v.pipe(
      v.string("proxyParam must be a string"),
      v.regex(/^[A-Za-z0-9_]{1,32}$/, "proxyParam must be 1-32 word characters"),
      v.description("the query parameter carrying the base64url upstream path on proxyPath"),
    ),
    "p",
  ),
  loaderPath: v.optional(v.pipe(RoutePathSchema, v.description("where the loader script is served")), "/l/"),
};

type Submitted = v.InferOutput<v.StrictObjectSchema<typeof submittedEntries, undefined>>;

/** Checks across fields, for the submitted and the stored form alike. */
function crossFieldChecks<T extends Submitted>() {
  return [
    v.check<T, string>(
      (config) => config.infraHosts.length + config.publicHosts.length > 0,
      "a config needs at least one host in infraHosts or publicHosts",
    ),
    v.check<T, string>((config) => config.proxyPath !== config.loaderPath, "proxyPath and loaderPath must differ"),
    v.check<T, string>(
      (config) => config.gtmEnvironment === undefined || config.gtmId.startsWith("GTM-"),
      "gtmEnvironment needs a GTM- container id (a G- id has no environments)",
    ),
  ] as const;
}

/** What an operator PUTs and the control plane's get_edge_config returns. */
export const EdgeConfigSchema = v.pipe(v.strictObject(submittedEntries), ...crossFieldChecks<Submitted>());

// public host (without mount prefix) -> the Domain attribute for its cookies (its registrable domain). Derived on
// the control side when a config is accepted (accepted-edge-config.ts), so the edge never consults the Public
// Suffix List. A host without an entry (IP, single label, infra host) gets host-only cookies.
const storedEntries = {
  ...submittedEntries,
  cookieDomains: v.optional(v.record(HostSchema, HostSchema, "cookieDomains must map hosts to domains")),
};
type Stored = v.InferOutput<v.StrictObjectSchema<typeof storedEntries, undefined>>;

/** A cookie Domain reaches `host` when it is the host or one of its parent domains. */
const covers = (domain: string, host: string) => host === domain || host.endsWith(`.${domain}`);

/** What EDGE_CONFIG and ContainerState hold: the submitted fields plus what was derived from them on acceptance. */
export const StoredEdgeConfigSchema = v.pipe(
  v.strictObject(storedEntries),
  ...crossFieldChecks<Stored>(),
  // Acceptance never derives a Domain that reaches an infra host (the platform's own name, shared by every tenant).
  // A stored value with one arrived some other way; refused here, the edge reads it like any corrupt value: a miss.
  v.check<Stored, string>(
    (config) => !Object.values(config.cookieDomains ?? {}).some((domain) => config.infraHosts.some((host) => covers(domain, host))),
    "cookieDomains must not cover an infra host",
  ),
);

export type EdgeConfig = v.InferOutput<typeof StoredEdgeConfigSchema>;
export type SubmittedEdgeConfig = v.InferOutput<typeof EdgeConfigSchema>;
export type EdgeConfigInput = v.InferInput<typeof EdgeConfigSchema>;

/** `upstream` may be plain http only in local development (var ALLOW_INSECURE_UPSTREAM="true"). */
export function upstreamAllowed(config: Pick<EdgeConfig, "upstream">, allowInsecure: string | undefined): boolean {
  return config.upstream.startsWith("https://") || allowInsecure === "true";
}

/** The entitlement each module needs; null for the privacy and geo modules, which are never a paid extra. */
const MODULE_ENTITLEMENTS: Record<keyof EdgeConfig["modules"], Entitlement | null> = {
  cookieKeeper: "cookie_restoration",
  cookieRestoration: "cookie_restoration",
  adblockDetection: "adblock_detection",
  geoHeaders: null,
  ipAnonymization: null,
  botDetection: "bot_detection",
};

/** A module runs only when it is enabled and its entitlement (if it needs one) is present. */
export function moduleActive(config: EdgeConfig, module: keyof EdgeConfig["modules"]): boolean {
  const entitlement = MODULE_ENTITLEMENTS[module];
  return config.modules[module].enabled && (entitlement === null || config.entitlements.includes(entitlement));
}

/** What a PUT's 202 warns about: enabled modules that will not run because their entitlement is missing. */
export function configWarnings(config: EdgeConfig): string[] {
  return (Object.keys(MODULE_ENTITLEMENTS) as (keyof EdgeConfig["modules"])[])
    .filter((module) => config.modules[module].enabled && !moduleActive(config, module))
    .map((module) => `modules.${module} is enabled but entitlements lacks "${MODULE_ENTITLEMENTS[module]}": it does not run`);
}
