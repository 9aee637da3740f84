// The Domain attribute for cookies the edge sets for a site (Cookie Keeper's rewrites, the loader's FPID, _sid and
// restored cookies): shared so both parts agree on which cookies reach which hosts.
import type { Site } from "./site";

/**
 * The Domain for a site's cookies: the public host's registrable domain, derived from the Public Suffix List when
 * the config was accepted (config.cookieDomains), so this is one property read. Null means a host-only cookie:
 * infra hosts (`shop1.edge.example` is the edge's own name, and its registrable domain is shared by every container,
 * so a Domain there would hand one container's FPID to the others), IPs and single-label hosts.
 */
export function siteCookieDomain(site: Pick<Site, "publicHost" | "config">): string | null {
  const domains = site.config.cookieDomains;
  // Own keys only: a host named like an Object.prototype member must not read one.
  return domains !== undefined && Object.hasOwn(domains, site.publicHost) ? domains[site.publicHost]! : null;
}
