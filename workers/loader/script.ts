// Builds the loader script for one site: the client template with the container's settings injected as a
// script-safe JSON literal, plus the validators (ETag) that let browsers and Cloudflare's cache revalidate it.
import { type EdgeConfig, moduleActive } from "../../schemas/edge-config";
import { textToBase64url } from "../shared/base64url";
import { siteCookieDomain } from "../shared/cookie-domain";
import type { Site } from "../shared/site";
import { CLIENT_TEMPLATE, CONFIG_PLACEHOLDER } from "./client";

/** What the client reads from `c` (short keys keep the script small; see client.ts). */
export interface ClientSettings {
  m: string;
  k: string;
  q: string;
  g: string;
  l: string;
  r: boolean;
  c: string[];
  d: string;
  a: boolean;
  n: string;
  i: string;
}

/**
 * JSON that is safe inside a <script> element and in any JavaScript parser: `<`, `>` and `&` are escaped so no
 * value can close the element (`</script>`) or open a comment (`<!--`), and U+2028/U+2029 are escaped because
 * they end a line inside string literals of pre-ES2019 engines.
 */
function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * What the page would load from Google, as a path on the container's upstream (sGTM serves both): gtm.js for a
 * GTM- container, with the environment's gtm_auth/gtm_preview (and gtm_cookies_win=x, which GTM's environment
 * snippet adds so the environment's preview cookie wins over a stale one), or gtag/js for a G- (Google tag) id.
 * `l` names a custom dataLayer.
 */
function tagPath(config: EdgeConfig): string {
  const params = new URLSearchParams({ id: config.gtmId });
  if (config.dataLayer !== "dataLayer") params.set("l", config.dataLayer);
  if (config.gtmId.startsWith("G-")) return `/gtag/js?${params}`;
  if (config.gtmEnvironment) {
    params.set("gtm_auth", config.gtmEnvironment.auth);
    params.set("gtm_preview", config.gtmEnvironment.preview);
    params.set("gtm_cookies_win", "x");
  }
  return `/gtm.js?${params}`;
}

export function clientSettings(site: Site): ClientSettings {
  const { config } = site;
  const restoration = moduleActive(config, "cookieRestoration");
  return {
    m: site.mountPrefix,
    k: config.proxyPath,
    q: config.proxyParam,
    // Encoded here, not in the browser: the script text then holds no GTM URL for a filter list to match either.
    g: textToBase64url(tagPath(config)),
    l: config.loaderPath,
    r: restoration,
    // Without restoration no cookie value is sent to /boot at all.
    c: restoration ? config.modules.cookieKeeper.cookies : [],
    // Empty means host-only cookies (infra hosts, IPs, single labels): the client then sets no Domain.
    d: siteCookieDomain(site) ?? "",
    a: moduleActive(config, "adblockDetection"),
    n: config.dataLayer,
    i: config.gtmId.startsWith("G-") ? config.gtmId : "",
  };
}

/** The settings literal injected into the script for `site`. */
export function injectedSettings(site: Site): string {
  return scriptSafeJson(clientSettings(site));
}

export function renderScript(settings: string): string {
  return CLIENT_TEMPLATE.replace(CONFIG_PLACEHOLDER, () => settings);
}

/** FNV-1a: a stable, dependency-free fingerprint of the template, so a new build invalidates cached scripts. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}

export const BUILD_HASH = fnv1a(CLIENT_TEMPLATE);

/**
 * Strong ETag: the config version, the build, and a hash of the injected settings. The settings are everything else
 * the body depends on, and not all of it is in the URL: the cookie domain follows the public host, which an honoured
 * X-Public-Host changes without changing the URL, so two public hosts never share a tag.
 */
export function scriptEtag(version: number, settings: string): string {
  return `"${version}-${BUILD_HASH}-${fnv1a(settings)}"`;
}

/** RFC 9110 If-None-Match: a list of (possibly weak) tags or `*`; weak comparison applies. */
export function matchesIfNoneMatch(header: string | null, etag: string): boolean {
  if (header === null) return false;
  // Header values reach the Worker trimmed (Fetch normalizes them).
  if (header === "*") return true;
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}
