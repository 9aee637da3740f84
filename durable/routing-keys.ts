// The routing keys of a config: every name that sends traffic (or a loader token) to one container. Each key has
// exactly one owner in the RoutingRegistry; this file says which keys a config names and how they collide.
import { registrableDomainOf } from "../schemas/accepted-edge-config";
import type { EdgeConfig } from "../schemas/edge-config";

/** What a config claims: the fields of EdgeConfig that route traffic. */
export type RoutingNames = Pick<EdgeConfig, "infraHosts" | "publicHosts" | "loaderToken">;

/**
 * `host`: a whole host (an infra host in ROUTING_MAP or a public host in SITE_REGISTRY: the router reads both maps
 * for a host, so they share one namespace); `mount`: `host/prefix` (same-origin mode); `token`: a loader token.
 */
export type RoutingKeyKind = "host" | "mount" | "token";

export interface RoutingKey {
  kind: RoutingKeyKind;
  /** The name as the operator wrote it: `ss.shop1.example`, `www.shop1.example/metrics`, `lt_9fQk2x`. */
  name: string;
  /** The host a host or mount key routes (null for tokens): a whole host collides with every mount below it. */
  host: string | null;
  /** Registrable domain of `host` (Public Suffix List): a public host may not share one with any infra host. */
  domain: string | null;
  role: "infra" | "public" | "token";
}

export function routingNames(config: RoutingNames): RoutingNames {
  return { infraHosts: config.infraHosts, publicHosts: config.publicHosts, loaderToken: config.loaderToken };
}

export function routingKeys(names: RoutingNames): RoutingKey[] {
  const keys: RoutingKey[] = names.infraHosts.map((host) => ({
    kind: "host",
    name: host,
    host,
    domain: registrableDomainOf(host),
    role: "infra",
  }));
  for (const entry of names.publicHosts) {
    const slash = entry.indexOf("/");
    const host = slash === -1 ? entry : entry.slice(0, slash);
    keys.push({ kind: slash === -1 ? "host" : "mount", name: entry, host, domain: registrableDomainOf(host), role: "public" });
  }
  keys.push({ kind: "token", name: names.loaderToken, host: null, domain: null, role: "token" });
  return keys;
}

/** The registry's primary key: kinds get their own namespace (a single-label host could equal a token). */
export function storageKey(key: Pick<RoutingKey, "kind" | "name">): string {
  return `${key.kind}:${key.name}`;
}

/** Why a claim was refused, naming the key and the container that holds it. */
export interface RoutingConflict {
  /** The requested name that cannot be had. */
  key: string;
  /** What it collides with: the same key, a whole host over a mount (or the reverse), or the platform's domain. */
  reason: "taken" | "host_over_mount" | "mount_under_host" | "platform_domain";
  /** The key the owner holds (differs from `key` except for "taken"). */
  ownedKey: string;
  owner: string;
}

export function conflictMessage(conflict: RoutingConflict): string {
  const { key, ownedKey, owner } = conflict;
  switch (conflict.reason) {
    case "taken":
      return `${key} belongs to container ${owner}`;
    case "host_over_mount":
      return `${key} cannot be a whole host: container ${owner} has the mount ${ownedKey} on it`;
    case "mount_under_host":
      return `${key} cannot be mounted: container ${owner} has the whole host ${ownedKey}`;
    case "platform_domain":
      return `${key} shares its registrable domain with ${ownedKey} (container ${owner}), and one of them is an infra host: cookies for the public host would reach the platform's own hosts`;
  }
}
