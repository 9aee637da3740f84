// The Domain attribute for cookies the edge sets for a site (Cookie Keeper's rewrites, the loader's FPID and
// restored cookies): shared so both parts agree on which cookies reach which hosts.
import type { EdgeConfig } from "../../schemas/edge-config";
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

// Registrable domains of a config's infra hosts, built once per config object (configs are replaced, not mutated).
const platformDomainsByConfig = new WeakMap<EdgeConfig, Set<string>>();

function platformDomains(config: EdgeConfig): Set<string> {
  let domains = platformDomainsByConfig.get(config);
  if (!domains) {
    domains = new Set(config.infraHosts.map(registrableDomain));
    platformDomainsByConfig.set(config, domains);
  }
  return domains;
}

/**
 * The Domain for a site's cookies. Infra hosts (`shop1.edge.example`) are the edge's own names: their registrable
 * domain is shared by every container, so a cookie with that Domain would reach other customers' upstreams. Such a
 * Domain is never given: a request on an infra host without an honoured X-Public-Host gets host-only cookies, and
 * so would a public host on an infra host's domain (the schema and the RoutingRegistry refuse those already).
 */
export function siteCookieDomain(site: Pick<Site, "publicHost" | "config">): string | null {
  const domain = cookieDomain(site.publicHost);
  return domain !== null && platformDomains(site.config).has(domain) ? null : domain;
}
