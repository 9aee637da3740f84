// The takeover cases of tenant isolation, shared by the control Worker's tests (operator API, webhook, queue) and the
// edge Worker's (live traffic): a victim container and intruders whose configs claim one of the victim's keys.
import type { EdgeConfigInput } from "../../schemas/edge-config";
import { edgeConfig } from "./fixtures";

let counter = 0;

/** A container id no other test uses (the registry and KV are shared by every test of a file). */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Container A: an infra host, a public host and a same-origin mount. Its infra host is under the test platform domain
 * workers.dev (vitest.config.ts PLATFORM_DOMAINS), a private Public Suffix List entry: each name below it is its own
 * registrable domain, so the platform-domain case collides with A alone.
 */
export function victim(upstream = "https://sgtm.victim.example"): EdgeConfigInput {
  const id = uniqueId("alpha");
  return edgeConfig({
    containerId: id,
    upstream,
    infraHosts: [`${id}.workers.dev`],
    publicHosts: [`ss.${id}.example`, `www.${id}.example/metrics`],
    loaderToken: `lt_${id}`,
  });
}

/** Another container's config, with `takeover` replacing some of its routing fields. */
export function intruder(takeover: Partial<EdgeConfigInput>, version = 1, upstream = "https://sgtm.intruder.example"): EdgeConfigInput {
  const id = uniqueId("intruder");
  return edgeConfig({ containerId: id, version, upstream, infraHosts: [], publicHosts: [`ss.${id}.example`], ...takeover });
}

/**
 * The takeovers of the issue, and every other way one key can collide with another container's. `rule`: the host rule
 * (workers/shared/host-rules.ts) that refuses the takeover with a 400 where a config is submitted (PUT, webhook),
 * before the registry is asked; a queued message reaches the registry, which refuses every one of them.
 */
export function takeovers(a: EdgeConfigInput): { name: string; takeover: Partial<EdgeConfigInput>; rule?: string }[] {
  const [publicHost, mount] = a.publicHosts! as [string, string];
  const mountHost = mount.split("/")[0]!;
  return [
    {
      name: "A's public host as an infra host (ROUTING_MAP over SITE_REGISTRY)",
      takeover: { infraHosts: [publicHost] },
      rule: "infra_host_outside_platform",
    },
    { name: "the host of A's mount as a whole public host", takeover: { publicHosts: [mountHost] } },
    { name: "the host of A's mount as an infra host", takeover: { infraHosts: [mountHost] }, rule: "infra_host_outside_platform" },
    { name: "A's public host again", takeover: { publicHosts: [publicHost] } },
    { name: "A's mount again", takeover: { publicHosts: [mount] } },
    { name: "a mount below A's whole public host", takeover: { publicHosts: [`${publicHost}/collect`] } },
    { name: "A's infra host as a public host", takeover: { publicHosts: [a.infraHosts![0]!] }, rule: "public_host_on_platform_domain" },
    { name: "A's loader token", takeover: { loaderToken: a.loaderToken } },
    {
      name: "a public host on the platform's own domain",
      takeover: { publicHosts: [`evil.${a.containerId}.workers.dev`] },
      rule: "public_host_on_platform_domain",
    },
  ];
}
