// Platform names are reserved (CONTRACT.md "EdgeConfig"; docs/tenant-isolation.md). The platform's own domains
// (the var PLATFORM_DOMAINS, comma-separated, set per environment by the deploy script) hold the infra hosts, and
// nothing a tenant names as a public host may sit on them or on another name the platform answers for. Checked where
// a config is accepted (the operator PUT and the Supabase webhook, as a 400) and again where the config consumer applies
// one, so a config that reached the queue another way (the outbox sweep, a webhook without Supabase) is refused too.
import type { RoutingNames } from "../../durable/routing-keys";
import { EdgeError } from "./errors";

type HostRulesEnv = Pick<Env, "PLATFORM_DOMAINS" | "OPERATOR_HOSTS" | "SAAS_CNAME_TARGET">;

function listVar(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((entry) => entry.trim().toLowerCase().replace(/^\.+/, ""))
    .filter((entry) => entry !== "");
}

/** `host` is `domain` or a name below it. */
function under(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

/**
 * An IP address as a browser reads a host: IPv6 in any form, and IPv4 whenever the last label is a number (WHATWG
 * URL's "ends in a number": `127.1`, `0x7f.0.0.1` and `2130706433` are all 127.0.0.1).
 */
function isIpLiteral(host: string): boolean {
  if (host.includes(":") || host.startsWith("[")) return true;
  const last = host.replace(/\.$/, "").split(".").at(-1) ?? "";
  return /^\d+$/.test(last) || /^0x[0-9a-f]*$/.test(last);
}

/** The first rule `names` breaks, as the 400 to answer; null when every host is allowed. */
export function hostRuleViolation(env: HostRulesEnv, names: Pick<RoutingNames, "infraHosts" | "publicHosts">): EdgeError | null {
  const platform = listVar(env.PLATFORM_DOMAINS);
  const operatorHosts = listVar(env.OPERATOR_HOSTS);
  const cnameTarget = listVar(env.SAAS_CNAME_TARGET);
  const shown = platform.length > 0 ? platform.join(", ") : "none: PLATFORM_DOMAINS is empty";
  for (const host of names.infraHosts) {
    // The local run's operator host (localhost) also serves a demo container: it is the platform's own name too.
    if (platform.some((domain) => under(host, domain)) || operatorHosts.includes(host)) continue;
    return new EdgeError(
      400,
      "infra_host_outside_platform",
      `infraHosts: ${host} is not under a platform domain (${shown}); infra hosts are the platform's own names, a customer's host belongs in publicHosts`,
    );
  }
  for (const entry of names.publicHosts) {
    const host = entry.split("/")[0]!;
    const refuse = (code: string, why: string) => new EdgeError(400, code, `publicHosts: ${entry} ${why}`);
    const domain = platform.find((d) => under(host, d));
    if (domain !== undefined)
      return refuse("public_host_on_platform_domain", `is under the platform domain ${domain}, which holds only infra hosts`);
    if (operatorHosts.includes(host)) return refuse("public_host_operator_host", "is an operator host (OPERATOR_HOSTS)");
    if (host === "localhost") return refuse("public_host_localhost", "is localhost");
    if (isIpLiteral(host)) return refuse("public_host_ip_literal", "is an IP address; a public host is a DNS name the customer owns");
    const target = cnameTarget.find((t) => under(host, t));
    if (target !== undefined)
      return refuse("public_host_cname_target", `is the custom-hostname CNAME target and fallback origin ${target}`);
  }
  return null;
}

/** Throws the 400 of the first rule `names` breaks. */
export function checkHostRules(env: HostRulesEnv, names: Pick<RoutingNames, "infraHosts" | "publicHosts">): void {
  const violation = hostRuleViolation(env, names);
  if (violation) throw violation;
}
