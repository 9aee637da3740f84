// The loader's cookies in a browser engine other than Chromium, against the whole local platform served over https
// (`startPlatform({ https: true })`, wrangler dev's own certificate): WebKit refuses `Secure` cookies on
// http://*.localhost, where Chromium accepts them, and Firefox is tested the same way. One body for every engine; each
// engine's file (loader-webkit.node.test.ts, loader-firefox.node.test.ts) only names its driver.
//   restoration  the same round trip as in Chromium: FPID from /boot, `_ga` backed up, deleted, restored.
//   _sid         set for 30 minutes, renewed by the next page view, new once expired. The expiry is rewritten in the
//                browser's own cookie store to "one minute left" and "already past"; nothing sleeps.
//   GTM          loaded from the stand-in origin through the obfuscated proxy path (the page's resource timing).
//   detection    the engine's own signals, not a faked user agent: WebKit's vendor is ITP, Firefox is ETP; the session
//                reaches `loader_sessions` of a PostgREST stand-in through LOG_QUEUE.
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPlatform } from "../../scripts/platform.mjs";
import type { BrowserDriver, BrowserSession } from "./browser-session";
import { type BootAnswer, pollUntil, waitInSync } from "./platform-pages";
import { startPostgrestStandIn } from "./postgrest-stand-in.mjs";

const GA = "GA1.1.626262.1700000000";
const SERVICE_KEY = "loader-https-service-key";

interface Engine {
  /** In the test names and the tenant of the PostgREST stand-in. */
  name: string;
  start: () => Promise<BrowserDriver>;
  /** What the loader's detection must report for this engine as it is. */
  protection: { itp: boolean; etp: boolean };
}

/** Registers the suite for one engine. */
export function loaderOverHttps({ name, start, protection }: Engine): void {
  const tenant = `loader-${name.toLowerCase()}`;
  let persistTo: string;
  let supabase: Awaited<ReturnType<typeof startPostgrestStandIn>>;
  let platform: Awaited<ReturnType<typeof startPlatform>>;
  let driver: BrowserDriver;

  const shopPage = () => `https://shop.localhost:${platform.port}/metrics/demo`;
  const workerOutput = () => platform.output.slice(-20).join("");
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  /** POST to the Worker over https as `host` (its certificate is self-signed; this is loopback). */
  function bootAs(host: string, path: string, cookie: string): Promise<BootAnswer> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${platform.workerUrl}${path}`,
        { method: "POST", headers: { Host: host, Cookie: cookie }, rejectUnauthorized: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as BootAnswer));
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify({ cookies: {} }));
    });
  }

  /** Polls the browser until the cookie satisfies `ready` (the loader's /boot runs after the page loaded). */
  function cookieWhen(session: BrowserSession, cookie: string, ready: (value: string, expiry: number) => boolean, what: string) {
    return pollUntil(
      async () => {
        const found = await session.cookie(cookie);
        return found && ready(found.value, found.expiry ?? 0) ? found : undefined;
      },
      10_000,
      what,
      workerOutput,
    );
  }

  beforeAll(async () => {
    persistTo = mkdtempSync(join(tmpdir(), `qaxal-${tenant}-`));
    supabase = await startPostgrestStandIn({ serviceKey: SERVICE_KEY });
    platform = await startPlatform({
      quiet: true,
      persistTo,
      https: true,
      vars: { SUPABASE_URL: supabase.supabaseUrl(tenant), SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY },
    });
    await waitInSync(platform.workerUrl, "demo-shop", 1);
    driver = await start();
  });

  afterAll(async () => {
    await driver?.stop();
    await platform?.stop();
    await supabase?.close();
    rmSync(persistTo, { recursive: true, force: true });
  });

  describe(`${name}, same-origin mode over https (shop.localhost/metrics)`, () => {
    it("restores a cookie the browser lost", async () => {
      const session = await driver.session();
      try {
        await session.navigate(shopPage());
        const fpid = await cookieWhen(session, "FPID", () => true, "FPID from /boot");
        // The edge's proof that it issued this FPID: /boot keeps a backup only for an identity with one.
        const proof = await cookieWhen(session, "_qxi", () => true, "_qxi from /boot");
        expect(fpid).toMatchObject({ httpOnly: true, secure: true });

        await session.execute(`document.cookie = "_ga=${GA}; Path=/; Max-Age=3600; Secure"`);
        await session.navigate(shopPage());
        // The backup is written after /boot answered (waitUntil): ask with the browser's FPID and no cookies, which
        // writes nothing itself, until it is there.
        await pollUntil(
          async () => {
            const answer = await bootAs("shop.localhost", "/metrics/boot", `FPID=${fpid.value}; _qxi=${proof.value}`);
            return answer.restoreCookies.some((c) => c.name === "_ga") ? true : undefined;
          },
          10_000,
          "the _ga backup in COOKIE_VAULT",
          workerOutput,
        );

        await session.deleteCookie("_ga");
        expect(await session.execute<string>("return document.cookie")).not.toContain("_ga=");
        await session.navigate(shopPage());
        await pollUntil(
          async () => ((await session.execute<string>("return document.cookie")).includes(`_ga=${GA}`) ? true : undefined),
          10_000,
          "_ga restored into document.cookie",
          workerOutput,
        );
      } finally {
        await session.close();
      }
    });

    it("sets _sid for 30 minutes, renews it on the next page view, and starts a new one once it expired", async () => {
      const session = await driver.session();
      try {
        await session.navigate(shopPage());
        const sid = await cookieWhen(session, "_sid", () => true, "_sid from /boot");
        expect(sid).toMatchObject({ path: "/", secure: true, httpOnly: false, sameSite: "Lax" });
        expect(sid.domain).toMatch(/^\.?shop\.localhost$/);
        expect(sid.expiry! - nowSeconds()).toBeGreaterThan(1800 - 60);
        // An engine may round the expiry up to the next whole second (Firefox did: 1801 against a floored now).
        expect(sid.expiry! - nowSeconds()).toBeLessThanOrEqual(1800 + 1);

        // 29 minutes later: one minute left. The next page view keeps the session and gives it 30 minutes again.
        await session.addCookie({ ...sid, expiry: nowSeconds() + 60 });
        expect((await session.cookie("_sid"))!.expiry! - nowSeconds()).toBeLessThanOrEqual(60);
        await session.navigate(shopPage());
        const renewed = await cookieWhen(session, "_sid", (_v, expiry) => expiry - nowSeconds() > 1800 - 60, "_sid renewed");
        expect(renewed.value).toBe(sid.value);

        // Past its expiry the browser drops it; the next page view starts a new session.
        await session.addCookie({ ...sid, expiry: nowSeconds() - 1 });
        expect(await session.cookie("_sid")).toBeUndefined();
        await session.navigate(shopPage());
        const fresh = await cookieWhen(session, "_sid", () => true, "a new _sid");
        expect(fresh.value).not.toBe(sid.value);
        expect(fresh.value).toMatch(/^[A-Za-z0-9_-]{24}$/);
      } finally {
        await session.close();
      }
    });

    it("loads GTM from the stand-in origin through the obfuscated proxy path", async () => {
      const session = await driver.session();
      try {
        await session.navigate(shopPage());
        await pollUntil(
          async () => (await session.execute<string | null>("return window.__sgtmStandIn ? window.__sgtmStandIn.id : null")) ?? undefined,
          10_000,
          "the stand-in's gtm.js running in the page",
          workerOutput,
        );
        expect(await session.execute<string>("return window.__sgtmStandIn.id")).toBe("GTM-DEMO01");
        const requested = await session.execute<string[]>('return performance.getEntriesByType("resource").map((e) => e.name)');
        const param = Buffer.from("/gtm.js?id=GTM-DEMO01").toString("base64url");
        expect(requested).toContain(`https://shop.localhost:${platform.port}/metrics/k/?p=${param}`);
        expect(requested.filter((url) => /gtm\.js|googletagmanager/i.test(url))).toEqual([]);
      } finally {
        await session.close();
      }
    });

    it(`reports ${name}'s own tracking protection (ITP ${protection.itp}, ETP ${protection.etp}), and the session reaches loader_sessions`, async () => {
      const session = await driver.session();
      try {
        await session.navigate(shopPage());
        const sessionId = await pollUntil(
          async () => (await session.execute<string | null>('return sessionStorage.getItem("_qxs")')) ?? undefined,
          10_000,
          "the session id the loader reported",
          workerOutput,
        );
        const row = await pollUntil(
          async () => (supabase.rows(tenant, "loader_sessions") as { session_id: string }[]).find((r) => r.session_id === sessionId),
          30_000,
          `loader_sessions row for ${sessionId}`,
          workerOutput,
        );
        expect(row).toMatchObject({
          container_id: "demo-shop",
          host: "shop.localhost",
          mode: "same-origin",
          adblock: false,
          ...protection,
        });
      } finally {
        await session.close();
      }
    });
  });
}
