// Loader boundaries (CONTRACT.md "Loader"): the /boot and /mark-session-detection bodies, the COOKIE_VAULT value and
// the backup marker cookie.
import * as v from "valibot";
import { CookieNameSchema, jsonObject, SESSION_ID } from "./fields";

/** More cookies than this in one boot is not a browser running the loader. */
const MAX_BOOT_COOKIES = 50;

// RFC 6265 cookie-octets: what a browser's cookie value can hold, and nothing that could end a Set-Cookie
// attribute or a `document.cookie` assignment when the value is written back (no ; , space, quote or backslash).
const CookieValueSchema = v.pipe(
  v.string("cookie value must be a string"),
  v.maxLength(1024, "cookie value is longer than 1024 characters"),
  v.regex(/^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/, "cookie value must be RFC 6265 cookie-octets"),
);

const COOKIE_MAP = "cookies must be an object of name: value";

const CookieMapSchema = v.pipe(
  jsonObject(v.record(CookieNameSchema, CookieValueSchema, COOKIE_MAP), COOKIE_MAP),
  v.check((cookies) => Object.keys(cookies).length <= MAX_BOOT_COOKIES, `at most ${MAX_BOOT_COOKIES} cookies`),
);

/** POST /boot: the loader-relevant cookies the page's JavaScript can see. */
export const BootBodySchema = jsonObject(
  v.strictObject({
    cookies: v.optional(CookieMapSchema, {}),
  }),
  'body must be a JSON object like {"cookies": {...}}',
);

export const SessionIdSchema = v.pipe(
  v.string("sessionId must be a string"),
  v.regex(SESSION_ID, "sessionId must be 8-64 characters of A-Z a-z 0-9 _ -"),
);

/** POST /mark-session-detection: what the script detected, once per session (`_sid`). */
export const DetectionBodySchema = jsonObject(
  v.strictObject({
    sessionId: SessionIdSchema,
    adblock: v.boolean("adblock must be a boolean"),
    itp: v.boolean("itp must be a boolean"),
    // Optional: a script cached from before ETP detection existed does not send it.
    etp: v.optional(v.boolean("etp must be a boolean"), false),
    /** navigator.webdriver: true in a browser driven by automation (WebDriver, Puppeteer, Playwright). Optional, so
     * a script cached from before it was sent still reports. */
    webdriver: v.optional(v.boolean("webdriver must be a boolean"), false),
  }),
  "body must be a JSON object",
);

/** COOKIE_VAULT[`<containerId>:<fpid>`]: the last backed-up values and when they were written (epoch seconds). */
export const VaultValueSchema = v.strictObject({
  cookies: CookieMapSchema,
  savedAt: v.pipe(v.number(), v.safeInteger()),
});

export type VaultValue = v.InferOutput<typeof VaultValueSchema>;

/**
 * The backup marker cookie's value, `<savedAt>.<digest>` (workers/loader/backup-marker.ts): the backup's `savedAt`
 * (epoch seconds; the time of the read when there is no backup) and a digest of what it holds (12 bytes of SHA-256,
 * 16 base64url characters). It comes back from the browser, so anything may arrive: a value that does not parse is
 * ignored, never an error.
 */
export const BackupMarkerSchema = v.pipe(
  v.string(),
  v.regex(/^\d{1,12}\.[A-Za-z0-9_-]{16}$/),
  v.transform((value) => {
    const dot = value.indexOf(".");
    return { savedAt: Number(value.slice(0, dot)), digest: value.slice(dot + 1) };
  }),
);

/** The /boot answer. `sessionId` is the `_sid` the answer also sets, for the script's detection report. */
export interface BootResponse {
  restoreCookies: { name: string; value: string; maxAge: number }[];
  sessionId: string;
}
