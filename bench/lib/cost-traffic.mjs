// Visitor sessions against the local platform, as a browser running the loader would send them: the loader script,
// /boot with the cookies the page can see, gtm.js and GA4 collect hits through the proxy path, and the ad-block
// detection (bait + beacon) once per session. Each visitor keeps a cookie jar, so FPID, _ga and the backups in
// COOKIE_VAULT evolve as they would. Every hit is logged with its kind (bench/cost-model.mjs HIT_RULES) and the time
// its answer arrived.
import { Agent, request } from "node:http";
import { hitsPerSession, pick } from "../cost-model.mjs";

/** The demo container every session goes to unless it names another (bench/lib/cost-platform.mjs clones it). */
export const DEMO_SITE = { containerId: "demo-shop", host: "ss.demo-shop.localhost", token: "lt_demo_shop" };
const GTM_ID = "GTM-DEMO01";
const GA4_ID = "DEMO01";
/** The cookies the demo container keeps that a page can read (FPID is HttpOnly). */
const VISIBLE_KEPT = /^(_ga|_ga_.*|_fbp)$/;
/** Of those, the ones the edge treats as volatile (workers/loader/cookies.ts volatileCookie): GA4's session cookie. */
const VOLATILE = /^_ga_/;
/** The edge's backup marker cookie (workers/loader/cookies.ts BACKUP_MARKER). */
const MARKER = "_qxb";
/** Between a session's page views (compressed from real minutes: the bill depends on the hit rate, not on this). */
const PAGE_GAP_MS = 1000;

const base64url = (text) => Buffer.from(text).toString("base64url");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function createClient(baseUrl, maxSockets = 64) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const send = ({ method = "GET", path, headers = {}, body, country, host = DEMO_SITE.host }, retry = true) =>
    new Promise((resolve, reject) => {
      // Cloudflare sets CF-IPCountry on every request; the records' country comes from it.
      const geo = country ? { "CF-IPCountry": country } : {};
      const req = request(new URL(path, baseUrl), { agent, method, headers: { ...headers, ...geo, Host: host } }, (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
      req.on("error", (error) => {
        // A kept-alive socket closed by the server just as it was reused: Node's documented race, safe to resend.
        const code = /** @type {NodeJS.ErrnoException} */ (error).code;
        if (retry && req.reusedSocket && code === "ECONNRESET") resolve(send({ method, path, headers, body, country, host }, false));
        else reject(error);
      });
      req.end(body);
    });
  return { send, close: () => agent.destroy() };
}

/**
 * A visitor: its cookie jar, the cookies the edge has backed up for it (null before the first backup), what the
 * marker in its jar vouches for (null before the first), whether its browser runs GA4's own script, which
 * rewrites the `_ga_<ID>` session cookie on every page view, and the site (container) it visits.
 */
let visitorCount = 0;

export function newVisitor(id, { ga4 = true, site = DEMO_SITE } = {}) {
  visitorCount += 1;
  // Each visitor has its own address, as Cloudflare sees real clients: the edge bounds /boot and beacons per client
  // (workers/shared/client-limit.ts), and the local run would otherwise give every visitor 127.0.0.1.
  const ip = `10.${(visitorCount >> 16) & 255}.${(visitorCount >> 8) & 255}.${visitorCount & 255}`;
  return { id, ip, jar: new Map(), backup: null, marked: null, ga4, site };
}

/** What gtag writes into `_ga_<ID>`: session start, session number, engaged flag and the last hit time (seconds). */
function ga4SessionCookie(visitor, sessionStart) {
  visitor.sessions = (visitor.sessions ?? 0) + (visitor.sessionStart === sessionStart ? 0 : 1);
  visitor.sessionStart = sessionStart;
  return `GS1.1.${sessionStart}.${visitor.sessions}.1.${Math.floor(Date.now() / 1000)}.0.0.0`;
}

/** What a backup marker vouches for: the shown names and their non-volatile values (backup-marker.ts). */
const vouched = (cookies) =>
  JSON.stringify(
    Object.keys(cookies)
      .sort()
      .map((name) => [name, VOLATILE.test(name) ? 0 : cookies[name]]),
  );

/**
 * What /boot will do, from the jar, the last backup and the marker (workers/loader/boot.ts, vault.ts,
 * backup-marker.ts): no FPID, no KV; a marker set for exactly these names and non-volatile values, no KV; else a
 * read, and a write when a name is new or a non-volatile value differs from the backup. These visitors never lose a
 * cookie, so nothing is restored and the Cookie header shows the same kept cookies as the body.
 */
function bootKind(visitor, cookies) {
  if (!visitor.jar.has("FPID")) return "boot-new";
  if (visitor.jar.has(MARKER) && visitor.marked === vouched(cookies)) return "boot-marked";
  if (visitor.backup === null) return Object.keys(cookies).length > 0 ? "boot-first-backup" : "boot-unchanged";
  const changed = Object.entries(cookies).some(
    ([name, value]) => !Object.hasOwn(visitor.backup, name) || (!VOLATILE.test(name) && visitor.backup[name] !== value),
  );
  return changed ? "boot-changed" : "boot-unchanged";
}

function storeCookies(jar, setCookie = []) {
  for (const line of setCookie) {
    const [pair, ...attributes] = line.split(";");
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq).trim();
    const deleted = attributes.some((a) => /^\s*max-age\s*=\s*(0|-)/i.test(a));
    if (deleted) jar.delete(name);
    else jar.set(name, pair.slice(eq + 1).trim());
  }
}

const cookieHeader = (jar) => [...jar].map(([name, value]) => `${name}=${value}`).join("; ");

/**
 * Runs one session for `visitor`: `pages` page views, detection unless `adblock` blocks the bait (the beacon still
 * goes) on the visitor's site, every hit appended to `log` as { kind, t, status, country, container }.
 * `changedCookie`: a kept cookie (_fbp) got a new value since the last visit.
 */
export async function runSession(client, { visitor, pages, adblock, country, sessionId, changedCookie = false }, log) {
  const site = visitor.site;
  /** @param {string} kind @param {{ method?: string, path: string, body?: string }} request */
  const hit = async (kind, { method = "GET", path, body }) => {
    const headers = { "CF-Connecting-IP": visitor.ip, ...(visitor.jar.size > 0 ? { Cookie: cookieHeader(visitor.jar) } : {}) };
    if (body !== undefined) headers["Content-Type"] = "text/plain;charset=UTF-8";
    const res = await client.send({ method, path, headers, body, country, host: site.host });
    const setCookie = res.headers["set-cookie"];
    storeCookies(visitor.jar, Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []);
    log.push({ kind, t: Date.now(), status: res.status, country, container: site.containerId });
    return res;
  };
  const sessionStart = Math.floor(Date.now() / 1000);
  if (changedCookie) visitor.jar.set("_fbp", `fb.1.${Date.now()}.${sessionId.length}${Math.floor(Math.random() * 1e9)}`);
  for (let page = 1; page <= pages; page++) {
    if (page === 1) await hit("script", { path: `/l/${site.token}.js` });
    const cookies = Object.fromEntries([...visitor.jar].filter(([name]) => VISIBLE_KEPT.test(name)));
    const kind = bootKind(visitor, cookies);
    await hit(kind, { method: "POST", path: "/boot", body: JSON.stringify({ cookies }) });
    if (kind !== "boot-new" && kind !== "boot-marked") {
      // The backup now holds these names and non-volatile values, and the answer set a marker saying so.
      visitor.backup = { ...visitor.backup, ...cookies };
      visitor.marked = vouched(cookies);
    }
    // GA4's script runs once GTM is loaded and rewrites its session cookie on every page view.
    if (visitor.ga4) visitor.jar.set(`_ga_${GA4_ID}`, ga4SessionCookie(visitor, sessionStart));
    if (page === 1) await hit("gtm", { path: `/k/?p=${base64url(`/gtm.js?id=${GTM_ID}`)}` });
    for (const event of ["page_view", "scroll", "user_engagement"]) {
      await hit("collect", { method: "POST", path: `/k/?p=${base64url(`/g/collect?v=2&tid=G-DEMO&en=${event}`)}`, body: "" });
    }
    if (page === 1) {
      if (!adblock) await hit("bait", { path: "/l/advertisement.js" });
      // The session /boot started (its `_sid`): the edge records detection only for sessions it started.
      const body = JSON.stringify({ sessionId: visitor.jar.get("_sid"), adblock, itp: false });
      await hit("detection", { method: "POST", path: "/mark-session-detection", body });
    }
    if (page < pages) await sleep(PAGE_GAP_MS);
  }
}

/** One loader script request for `site`, logged like a session's: it resolves the host, the token and the config. */
export async function fetchScript(client, site, log) {
  const res = await client.send({ path: `/l/${site.token}.js`, host: site.host });
  log.push({ kind: "script", t: Date.now(), status: res.status, container: site.containerId });
}

/**
 * Sessions for `seconds` of traffic at `rate` hits/s: Poisson session starts, each session drawn from the mix.
 * Returning visitors come from `returning` (visitors that already have FPID, _ga and a backup), one session each;
 * new ones go to `sites` in turn.
 */
export function planSessions({ rate, seconds, mix, random, returning, sites = [DEMO_SITE] }) {
  const perSession = Object.values(hitsPerSession(mix)).reduce((a, b) => a + b, 0);
  const sessionsPerSecond = rate / perSession;
  const sessions = [];
  let next = 0;
  for (let t = 0; ; ) {
    t += (-Math.log(1 - random()) * 1000) / sessionsPerSecond;
    if (t >= seconds * 1000) break;
    const candidate = returning[next];
    const visitor =
      random() < mix.newVisitorShare || candidate === undefined
        ? newVisitor(`n${sessions.length}`, { ga4: mix.ga4SessionCookie, site: sites[sessions.length % sites.length] })
        : candidate;
    const isNew = visitor !== candidate;
    if (!isNew) next += 1;
    sessions.push({
      start: t,
      visitor,
      changedCookie: !isNew && random() < mix.changedCookieShare,
      pages: pick(random, mix.pagesPerSession),
      adblock: random() < mix.adblockShare,
      country: pick(random, mix.countries),
      sessionId: `cost_${sessions.length}_${Math.floor(random() * 1e9).toString(36)}`,
    });
  }
  return sessions;
}

/** How many returning visitors `planSessions` can use at most (its plan draws new ones past that). */
export function returningNeeded({ rate, seconds, mix }) {
  const perSession = Object.values(hitsPerSession(mix)).reduce((a, b) => a + b, 0);
  // Poisson: the mean plus four standard deviations, so a plan practically never runs out.
  const mean = ((rate * seconds) / perSession) * (1 - mix.newVisitorShare);
  return Math.ceil(mean + 4 * Math.sqrt(mean) + 1);
}

/** Starts every session at its planned time; resolves with the hit log once all have ended. */
export async function runPlan(client, sessions) {
  const log = [];
  const started = Date.now();
  await Promise.all(
    sessions.map(async (session) => {
      await sleep(session.start - (Date.now() - started));
      await runSession(client, session, log);
    }),
  );
  return log;
}

/**
 * Gives each of `count` new visitors a first, two-page session: afterwards they have FPID, _ga and a backup. Their
 * hits go to `log`.
 */
export async function makeReturningVisitors(client, count, log, { concurrency = 16, ga4 = true, site = DEMO_SITE } = {}) {
  const visitors = Array.from({ length: count }, (_, i) => newVisitor(`r${i}`, { ga4, site }));
  let next = 0;
  const worker = async () => {
    for (let visitor = visitors[next++]; visitor; visitor = visitors[next++]) {
      await runSession(client, { visitor, pages: 2, adblock: false, country: "DE", sessionId: `warm_${visitor.id}_${Date.now()}` }, log);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return visitors;
}
