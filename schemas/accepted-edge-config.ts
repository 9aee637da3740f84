// Control side only (operator API, sync consumer): a submitted EdgeConfig becomes the stored one. Each public host's
// cookie Domain is derived here, once per accepted version, from the full Public Suffix List (tldts: ICANN and
// private sections), so live traffic looks nothing up per request and the edge Worker's bundle does not carry the
// list. Edge code (router, loader) reads the result, `cookieDomains`, and must never import this file.
import { parse } from "tldts";
import * as v from "valibot";
import { type EdgeConfig, EdgeConfigSchema, type SubmittedEdgeConfig } from "./edge-config";

export type CookieDomainOf =
  | { kind: "domain"; domain: string }
  /** IPs and single-label names outside the list (`localhost`): browsers take no Domain there. */
  | { kind: "host-only" }
  | { kind: "public-suffix"; section: "ICANN" | "private" };

/** What the Public Suffix List says about one host. */
export function cookieDomainOf(host: string): CookieDomainOf {
  const parsed = parse(host, { allowPrivateDomains: true });
  if (parsed.isIp) return { kind: "host-only" };
  if (parsed.domain !== null) return { kind: "domain", domain: parsed.domain };
  // No registrable part left: the host is a suffix. A listed one (co.uk, pages.dev, any *.ck) is shared by
  // unrelated sites and browsers refuse cookies for it; an unlisted single label only matches the implicit "*" rule.
  if (parsed.isIcann) return { kind: "public-suffix", section: "ICANN" };
  if (parsed.isPrivate) return { kind: "public-suffix", section: "private" };
  return { kind: "host-only" };
}

/**
 * The registrable domain of `host` by the Public Suffix List; the host itself where there is none (IPs, single
 * labels, suffixes). Two hosts with the same one share cookies set with `Domain=` it.
 */
export function registrableDomainOf(host: string): string {
  const found = cookieDomainOf(host);
  return found.kind === "domain" ? found.domain : host;
}

/** The host of a public host entry (`www.shop.example/metrics` -> `www.shop.example`). */
function hostOf(publicHost: string): string {
  const slash = publicHost.indexOf("/");
  return slash === -1 ? publicHost : publicHost.slice(0, slash);
}

/**
 * EdgeConfigSchema, then the derivation. A public host that is itself a public suffix, or that shares its
 * registrable domain with one of the config's infra hosts (the platform's own domain: its cookies would reach every
 * container's infra hosts), is an issue on that `publicHosts` entry, so a PUT answers 400 naming it and the sync
 * consumer dead-letters the version. Across containers the RoutingRegistry applies the second rule too.
 * Infra hosts get no entry: they are the edge's own names, shared by every container, so their cookies stay host-only.
 */
export const AcceptedEdgeConfigSchema = v.pipe(
  EdgeConfigSchema,
  v.rawTransform(({ dataset, addIssue, NEVER }): EdgeConfig => {
    const config: SubmittedEdgeConfig = dataset.value;
    const cookieDomains: Record<string, string> = {};
    const platform = new Map(config.infraHosts.map((host) => [registrableDomainOf(host), host]));
    let refused = false;
    config.publicHosts.forEach((entry, index) => {
      const host = hostOf(entry);
      const found = cookieDomainOf(host);
      const issue = (message: string) => {
        refused = true;
        addIssue({
          message,
          path: [
            { type: "object", origin: "value", input: config, key: "publicHosts", value: config.publicHosts },
            { type: "array", origin: "value", input: config.publicHosts, key: index, value: entry },
          ],
        });
      };
      if (found.kind === "public-suffix") {
        issue(`${host} is a public suffix (${found.section} section of the Public Suffix List): browsers refuse cookies for it, so use a host of the site under it, like ss.shop.${host}`);
        return;
      }
      const infra = platform.get(registrableDomainOf(host));
      if (infra !== undefined) {
        issue(`${entry} is on ${registrableDomainOf(host)}, the registrable domain of infra host ${infra} (the platform's own)`);
        return;
      }
      if (found.kind === "domain") cookieDomains[host] = found.domain;
    });
    return refused ? NEVER : { ...config, cookieDomains };
  }),
);
