// Which host a request is for: the Host header wins over X-Forwarded-Host; hosts are compared lower-cased, without
// port or trailing dot. Anything that is not a plausible host name is refused before it becomes a KV key.

/** DNS-ish names (underscores occur in real hosts) or a bracketed IPv6 literal; KV keys must also be non-empty. */
const PLAUSIBLE_HOST = /^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])$/;
const MAX_HOST_LENGTH = 253;

/** Lower-cases and strips port and trailing dot; null when what is left is not a host name. */
export function normalizeHost(raw: string): string | null {
  let host = raw.trim().toLowerCase();
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    if (end === -1) return null;
    host = host.slice(0, end + 1);
  } else {
    const colon = host.indexOf(":");
    if (colon !== -1) host = host.slice(0, colon);
    if (host.endsWith(".")) host = host.slice(0, -1);
  }
  return host.length <= MAX_HOST_LENGTH && PLAUSIBLE_HOST.test(host) ? host : null;
}

/** The raw host the request names: Host, else the first X-Forwarded-Host entry, else the URL's host. */
export function requestHost(request: Request, url: URL): string {
  const host = request.headers.get("Host");
  if (host) return host;
  const forwarded = request.headers.get("X-Forwarded-Host");
  if (forwarded) {
    const comma = forwarded.indexOf(",");
    return comma === -1 ? forwarded : forwarded.slice(0, comma);
  }
  return url.host;
}
