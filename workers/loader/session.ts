// The `_sid` session cookie: first-party, 30 minutes sliding. Each /boot (one per page view) renews the one the
// browser sent or issues a new one; the detection record carries it as `sessionId`, so a `loader_sessions` row and
// sGTM's hits (which see the cookie on every request to the site) name the same visit. It is handled only on /boot,
// never on the proxy path.
//
// An id is 9 random bytes and a 9-byte MAC of them (edge-mac.ts), 24 base64url characters: the edge can tell a
// session it started from one a client made up, and only its own become detection records (detection.ts).
import * as v from "valibot";
import { SessionIdSchema } from "../../schemas/loader";
import { bytesToBase64url, randomBase64url } from "../shared/base64url";
import type { Site } from "../shared/site";
import { edgeSetCookie } from "./cookies";
import { edgeMac, sameMac } from "./edge-mac";

export const SESSION_COOKIE = "_sid";
/** A visit ends after 30 minutes without a page view, as GA4 counts sessions. */
const SESSION_SECONDS = 30 * 60;
const RANDOM_BYTES = 9;
/** 72 bits: guessing one takes ~2^71 tries, far beyond what the rate limit lets a client send. */
const MAC_BYTES = 9;
/** base64url of 9 bytes: 12 characters, no padding. */
const RANDOM_CHARS = 12;

async function sessionMac(env: Pick<Env, "EDGE_AUTH_SECRET">, containerId: string, random: string): Promise<Uint8Array> {
  return edgeMac(env, "session", containerId, random, MAC_BYTES);
}

async function newSessionId(env: Pick<Env, "EDGE_AUTH_SECRET">, containerId: string): Promise<string> {
  const random = randomBase64url(RANDOM_BYTES);
  return random + bytesToBase64url(await sessionMac(env, containerId, random));
}

/** True when `id` is a session id this edge started for this container. */
export async function sessionStarted(env: Pick<Env, "EDGE_AUTH_SECRET">, containerId: string, id: string): Promise<boolean> {
  if (id.length !== 2 * RANDOM_CHARS) return false;
  const random = id.slice(0, RANDOM_CHARS);
  return sameMac(id.slice(RANDOM_CHARS), bytesToBase64url(await sessionMac(env, containerId, random)));
}

/** The session this page view belongs to: the browser's own while it is live and the edge's, else a new one. */
export async function currentSession(env: Pick<Env, "EDGE_AUTH_SECRET">, containerId: string, sent: string | undefined): Promise<string> {
  if (sent !== undefined && v.is(SessionIdSchema, sent) && (await sessionStarted(env, containerId, sent))) return sent;
  return newSessionId(env, containerId);
}

/**
 * Re-sent with a full Max-Age on every /boot, so the 30 minutes run from the last page view. Readable by page
 * scripts on purpose (a web container may read it); it identifies a visit, it authorises nothing.
 */
export function sessionSetCookie(id: string, site: Pick<Site, "publicHost" | "config">): string {
  return edgeSetCookie(SESSION_COOKIE, id, SESSION_SECONDS, site, { secure: true, httpOnly: false });
}
