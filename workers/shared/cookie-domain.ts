// The Domain attribute for cookies the edge sets for a site (Cookie Keeper's rewrites, the loader's FPID and
// restored cookies): shared so both parts agree on which cookies reach which hosts.
import { isIpAddress, registrableDomain } from "./registrable-domain";
import type { Site } from "./site";

/**
 * The Domain attribute for cookies on `publicHost`: its registrable domain, so the cookie reaches the shop's own
 * pages too. Null (a host-only cookie) for IPs and single-label hosts, where browsers refuse a Domain.
 */
export function cookieDomain(publicHost: string): string | null {
  const domain = registrableDomain(publicHost);
  return isIpAddress(domain) || !domain.includes(".") ? null : domain;
}

/**
 * The Domain for a site's cookies. Infra hosts (`shop1.edge.example`) are the edge's own names: their registrable
 * domain is shared by every container, so a cookie set there with a Domain would reach other customers' upstreams.
 * A request on an infra host without an honoured X-Public-Host therefore gets host-only cookies.
 */
export function siteCookieDomain(site: Pick<Site, "publicHost" | "config">): string | null {
  const { publicHost, config } = site;
  if (config.infraHosts.includes(publicHost) && !config.publicHosts.includes(publicHost)) return null;
  return cookieDomain(publicHost);
}
