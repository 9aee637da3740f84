// Field-level schemas shared by several boundaries.
import * as v from "valibot";

// The id patterns, each written once: schemas, path parameters and the edge's own checks use these. (The SQL check
// constraints in supabase/migrations repeat them; SQL cannot import.)
const CONTAINER_ID_CHARS = "[a-z0-9][a-z0-9_-]{2,63}";
/** A container id: the EdgeConfig's containerId, the :id of the operator routes, a report's `container`. */
export const CONTAINER_ID = new RegExp(`^${CONTAINER_ID_CHARS}$`);
/** A container id or nothing (the first page of a listing keyed by container id). */
export const CONTAINER_ID_OR_EMPTY = new RegExp(`^(${CONTAINER_ID_CHARS})?$`);
/** The loader token: the name of the loader script, `<loaderPath><token>.js`. */
export const LOADER_TOKEN = /^[A-Za-z0-9_-]{6,64}$/;
/** The `_sid` session id the loader issues (and accepts back from the browser). */
export const SESSION_ID = /^[A-Za-z0-9_-]{8,64}$/;

/** What a refused container id is told, under the name the caller used for it (`containerId`, `container`, …). */
export function containerIdRule(name: string): string {
  return `${name} must match ${CONTAINER_ID.source}`;
}

export const ContainerIdSchema = v.pipe(v.string("containerId must be a string"), v.regex(CONTAINER_ID, containerIdRule("containerId")));

export const VersionSchema = v.pipe(
  v.number("version must be a number"),
  v.safeInteger("version must be an integer"),
  v.minValue(1, "version must be >= 1"),
);

// A DNS host name, lower-case, no port. Upper-case input is rejected rather than silently folded so that
// what the operator wrote is exactly what lands in KV.
export const HostSchema = v.pipe(
  v.string("host must be a string"),
  v.maxLength(253, "host is too long"),
  v.regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/,
    "host must be a lower-case DNS name without port",
  ),
);

/** A same-origin mount prefix: the one path segment after the host in `www.shop1.example/metrics`. */
export const MOUNT_PREFIX = /^[a-z0-9][a-z0-9_-]{0,62}$/;

// `ss.shop1.example` or, for same-origin mode, `www.shop1.example/metrics` (one path segment).
export const PublicHostSchema = v.pipe(
  v.string("public host must be a string"),
  v.check((value) => {
    const [host, prefix, ...rest] = value.split("/");
    if (rest.length > 0 || host === undefined) return false;
    if (!v.is(HostSchema, host)) return false;
    return prefix === undefined || MOUNT_PREFIX.test(prefix);
  }, "public host must be a host or host/prefix (one lower-case path segment)"),
);

export const OriginSchema = v.pipe(
  v.string("origin must be a string"),
  v.regex(/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/, "origin must look like https://host[:port] (lower-case, no path)"),
);

// Path segments like /k/ or /metrics/t/: letters, digits, _ and -, starting and ending with a slash.
export const RoutePathSchema = v.pipe(
  v.string("path must be a string"),
  v.regex(/^\/([A-Za-z0-9_-]+\/)+$/, "path must look like /segment/ (letters, digits, _ and -)"),
  v.check((value) => !value.startsWith("/_edge/"), "path must not use the reserved /_edge/ prefix"),
);

export const CookieNameSchema = v.pipe(
  v.string("cookie name must be a string"),
  v.regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, "cookie name must be an RFC 6265 token (a trailing * is a prefix match)"),
);

/**
 * `schema` (an object or record schema) for JSON input, refusing arrays: valibot's object and record schemas accept
 * them (typeof [] is "object"), so `[]` would pass as an empty object and `["x"]` as a record {"0": "x"}.
 */
export function jsonObject<S extends v.GenericSchema>(schema: S, message: string) {
  return v.pipe(
    v.custom<v.InferInput<S>>((input) => typeof input === "object" && input !== null && !Array.isArray(input), message),
    schema,
  );
}

/** Longest window a report reads: every hour partition in it is listed and read from R2. */
export const MAX_SINCE_MS = 7 * 24 * 3600_000;

const UNIT_MS = { m: 60_000, h: 3600_000, d: 86_400_000 } as const;

/** A window length ending now: `30m`, `24h`, `7d` (at most 7 days), in milliseconds. */
export function sinceParam(description: string) {
  return v.pipe(
    v.string(),
    // Before the transform: the OpenAPI description is generated from the input side of the pipe.
    v.description(description),
    v.regex(/^[1-9]\d{0,3}[mhd]$/, "since must look like 30m, 24h or 7d"),
    v.transform((text) => Number(text.slice(0, -1)) * UNIT_MS[text.slice(-1) as keyof typeof UNIT_MS]),
    v.maxValue(MAX_SINCE_MS, "since must be at most 7d"),
  );
}
