// The identity proof `_qxi`: a first-party, HttpOnly cookie holding a MAC (edge-mac.ts) of the identity cookie's
// value. /boot backs up cookies only under an identity it carries a valid proof for, so a client that invents an
// FPID (a bot, a script replaying random values) costs COOKIE_VAULT nothing. The edge sets the proof where it knows
// the identity is genuine:
// - when /boot issues the FPID itself;
// - when the container's upstream sets the identity cookie through the edge (response-rules.ts);
// - for a site-set `identityCookie` (its own server sets it, out of the edge's sight): at the first /boot that shows
//   it, with nothing stored then, so its first backup waits until the identity comes back with its proof.
import type { Site } from "../shared/site";
import { cookieMaxAgeSeconds, edgeSetCookie, IDENTITY_PROOF, parseCookieHeader, usableIdentity } from "./cookies";
import { edgeMacText, sameMac } from "./edge-mac";

/** 128 bits: as hard to guess as a random FPID. */
const PROOF_BYTES = 16;

export function identityProof(env: Pick<Env, "EDGE_AUTH_SECRET">, containerId: string, identity: string): Promise<string> {
  return edgeMacText(env, "identity", containerId, identity, PROOF_BYTES);
}

/** True when `proof` (the `_qxi` cookie the browser sent) is this edge's proof for `identity` in this container. */
export async function identityVouched(
  env: Pick<Env, "EDGE_AUTH_SECRET">,
  containerId: string,
  identity: string,
  proof: string | undefined,
): Promise<boolean> {
  return proof !== undefined && sameMac(proof, await identityProof(env, containerId, identity));
}

/** Lives as long as the identity cookie itself; HttpOnly, like the FPID it vouches for. */
export async function identityProofSetCookie(
  env: Pick<Env, "EDGE_AUTH_SECRET">,
  identity: string,
  site: Pick<Site, "containerId" | "publicHost" | "config" | "url">,
): Promise<string> {
  return edgeSetCookie(IDENTITY_PROOF, await identityProof(env, site.containerId, identity), cookieMaxAgeSeconds(site.config), site, {
    secure: site.url.protocol === "https:",
    httpOnly: true,
  });
}

/**
 * The identity value an upstream response sets (a `Set-Cookie` of the container's identity cookie), or null. The
 * router then adds the proof, so a visitor whose FPID sGTM issued gets a backup from the first /boot on.
 */
export function identitySetBy(setCookies: readonly string[], identityCookie: string): string | null {
  for (const header of setCookies) {
    const end = header.indexOf(";");
    const pair = end === -1 ? header : header.slice(0, end);
    const equals = pair.indexOf("=");
    if (equals <= 0 || pair.slice(0, equals).trim() !== identityCookie) continue;
    const value = pair.slice(equals + 1).trim();
    if (usableIdentity(value)) return value;
  }
  return null;
}

/**
 * True when the request already carries `identity` and a proof: sGTM re-sends its FPID on every hit, and the edge
 * need not sign it again each time. A proof that does not check out only costs its holder the backup (/boot verifies
 * it); once the proof cookie is gone, the next hit gets a new one.
 */
export function identityProofHeld(cookieHeader: string | null, identityCookie: string, identity: string): boolean {
  const jar = parseCookieHeader(cookieHeader);
  return jar.get(identityCookie) === identity && jar.has(IDENTITY_PROOF);
}
