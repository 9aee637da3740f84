// Which deployment mode a visit actually ran in, measured by the edge from the detection beacon's Origin (the page
// that ran the loader) against the host the beacon reached. It tells an operator whether the Safari rule that caps
// cookies set from an edge IP other than the site's (subdomain mode) applies to their visitors.
import type { VisitMode } from "../../schemas/log-record";
import { siteCookieDomain } from "../shared/cookie-domain";
import type { Site } from "../shared/site";

/**
 * same-origin: the page is on the edge's own host (a path mount, or the Worker serves the page).
 * subdomain: the page is on another host of the same site (www.shop.example -> ss.shop.example).
 * cross-site: another site (its cookies are third-party there). unknown: no usable Origin.
 */
export function visitMode(origin: string | null, site: Pick<Site, "publicHost" | "config">): VisitMode {
  if (origin === null || origin === "null") return "unknown";
  let pageHost: string;
  try {
    pageHost = new URL(origin).hostname;
  } catch {
    return "unknown";
  }
  if (pageHost === site.publicHost) return "same-origin";
  const domain = siteCookieDomain(site);
  return domain !== null && (pageHost === domain || pageHost.endsWith(`.${domain}`)) ? "subdomain" : "cross-site";
}
