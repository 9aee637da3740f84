// The `_sid` session cookie: first-party, random, 30 minutes sliding. Each /boot (one per page view) renews the
// one the browser sent or issues a new one; the detection record carries it as `sessionId`, so a
// `loader_sessions` row and sGTM's hits (which see the cookie on every request to the site) name the same visit.
// It is handled only on /boot, never on the proxy path.

import * as v from "valibot";
import { SessionIdSchema } from "../../schemas/loader";
import { randomBase64url } from "../shared/base64url";
import type { Site } from "../shared/site";
import { edgeSetCookie } from "./cookies";

export const SESSION_COOKIE = "_sid";
/** A visit ends after 30 minutes without a page view, as GA4 counts sessions. */
const SESSION_SECONDS = 30 * 60;

/** 18 random bytes as base64url: 24 characters, a valid detection `sessionId`. */
function newSessionId(): string {
  return randomBase64url(18);
}

/** The session this page view belongs to: the browser's own while it is live, else a new one. */
export function currentSession(sent: string | undefined): string {
  return sent !== undefined && v.is(SessionIdSchema, sent) ? sent : newSessionId();
}

/**
 * Re-sent with a full Max-Age on every /boot, so the 30 minutes run from the last page view. Readable by page
 * scripts on purpose (a web container may read it); it identifies a visit, it authorises nothing.
 */
export function sessionSetCookie(id: string, site: Pick<Site, "publicHost" | "config">): string {
  return edgeSetCookie(SESSION_COOKIE, id, SESSION_SECONDS, site, { secure: true, httpOnly: false });
}
