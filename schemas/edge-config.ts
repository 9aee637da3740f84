// EdgeConfig: the value stored in EDGE_CONFIG for each container (CONTRACT.md "EdgeConfig").
import * as v from "valibot";
import { registrableDomain } from "../workers/shared/registrable-domain";
import {
  ContainerIdSchema,
  CookieNameSchema,
  HostSchema,
  jsonObject,
  OriginSchema,
  PublicHostSchema,
  RoutePathSchema,
  VersionSchema,
} from "./fields";

/** Browsers cap cookie lifetimes at 400 days; anything longer would be silently shortened by them anyway. */
export const MAX_COOKIE_DAYS = 400;

export const ENTITLEMENTS = ["cookie_restoration", "adblock_detection"] as const;
export type Entitlement = (typeof ENTITLEMENTS)[number];

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
  v.transform((value) => value.replace(/\/$/, "")),
);

const CookieKeeperSchema = v.strictObject({
  enabled: v.boolean("enabled must be a boolean"),
  cookies: v.optional(v.array(CookieNameSchema), ["_ga", "_ga_*", "_fbp", "FPID"]),
  maxAgeDays: v.optional(
    v.pipe(
      v.number("maxAgeDays must be a number"),
      v.integer("maxAgeDays must be an integer"),
      v.minValue(1, "maxAgeDays must be >= 1"),
      v.transform((days) => Math.min(days, MAX_COOKIE_DAYS)),
    ),
    395,
  ),
  httpOnly: v.optional(v.array(CookieNameSchema), []),
});

const ToggleSchema = v.strictObject({ enabled: v.boolean("enabled must be a boolean") });

// An array here would otherwise pass as {} and switch every module off without a word.
export const ModulesSchema = jsonObject(
  v.strictObject({
    cookieKeeper: v.optional(CookieKeeperSchema, { enabled: false }),
    cookieRestoration: v.optional(ToggleSchema, { enabled: false }),
    adblockDetection: v.optional(ToggleSchema, { enabled: false }),
  }),
  "modules must be an object",
);

export const EdgeConfigSchema = v.pipe(
  v.strictObject({
    containerId: ContainerIdSchema,
    version: VersionSchema,
    upstream: UpstreamSchema,
    infraHosts: v.optional(v.array(HostSchema), []),
    publicHosts: v.optional(v.array(PublicHostSchema), []),
    loaderToken: v.pipe(
      v.string("loaderToken must be a string"),
      v.regex(/^[A-Za-z0-9_-]{6,64}$/, "loaderToken must be 6-64 characters of A-Z a-z 0-9 _ -"),
    ),
    gtmId: v.pipe(
      v.string("gtmId must be a string"),
      v.regex(/^(GTM|G)-[A-Z0-9]{4,16}$/, "gtmId must look like GTM-ABC123"),
    ),
    allowedOrigins: v.optional(v.array(OriginSchema), []),
    entitlements: v.optional(v.array(v.picklist(ENTITLEMENTS, `entitlement must be one of ${ENTITLEMENTS.join(", ")}`)), []),
    modules: v.optional(ModulesSchema, {}),
    proxyPath: v.optional(RoutePathSchema, "/k/"),
    proxyParam: v.optional(
      v.pipe(v.string("proxyParam must be a string"), v.regex(/^[A-Za-z0-9_]{1,32}$/, "proxyParam must be 1-32 word characters")),
      "p",
    ),
    loaderPath: v.optional(RoutePathSchema, "/l/"),
  }),
  v.check(
    (config) => config.infraHosts.length + config.publicHosts.length > 0,
    "a config needs at least one host in infraHosts or publicHosts",
  ),
  v.check((config) => config.proxyPath !== config.loaderPath, "proxyPath and loaderPath must differ"),
  // Cookies get Domain=<registrable domain of the public host>; on an infra host's domain they would reach the
  // platform's own hosts (every tenant's). Across containers the RoutingRegistry applies the same rule.
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const platform = new Map(dataset.value.infraHosts.map((host) => [registrableDomain(host), host]));
    for (const entry of dataset.value.publicHosts) {
      const domain = registrableDomain(entry.split("/")[0]!);
      const infra = platform.get(domain);
      if (infra !== undefined) {
        addIssue({ message: `publicHosts: ${entry} is on ${domain}, the domain of infra host ${infra} (the platform's own)` });
        return;
      }
    }
  }),
);

export type EdgeConfig = v.InferOutput<typeof EdgeConfigSchema>;
export type EdgeConfigInput = v.InferInput<typeof EdgeConfigSchema>;

/** `upstream` may be plain http only in local development (var ALLOW_INSECURE_UPSTREAM="true"). */
export function upstreamAllowed(config: Pick<EdgeConfig, "upstream">, allowInsecure: string | undefined): boolean {
  return config.upstream.startsWith("https://") || allowInsecure === "true";
}

/** A module runs only when it is enabled and its entitlement is present. */
export function moduleActive(config: EdgeConfig, module: keyof EdgeConfig["modules"]): boolean {
  const entitlement: Entitlement = module === "adblockDetection" ? "adblock_detection" : "cookie_restoration";
  return config.modules[module].enabled && config.entitlements.includes(entitlement);
}
