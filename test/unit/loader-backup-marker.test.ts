// POST /boot's backup marker (`_qxb`) and volatile cookies: which page views read and write COOKIE_VAULT. The spies
// count calls on the real KV binding; every answer is also checked for what the browser gets back.
import { env } from "cloudflare:workers";
import { CookieJar } from "tough-cookie";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { EdgeConfig } from "../../schemas/edge-config";
import type { VaultValue } from "../../schemas/loader";
import { VAULT_REFRESH_SECONDS, VAULT_TTL_SECONDS } from "../../workers/loader/vault";
import { boot, config, FPID, restored, setCookie, siteFor, spyVault } from "./loader-support";

afterEach(() => {
  vi.restoreAllMocks();
});

const MARKER = /^_qxb=(\d+)\.([A-Za-z0-9_-]{16}); /;

/** The marker's `name=value` pair from an answer, as the browser would send it back; fails when there is none. */
function markerPair(response: Response): string {
  const header = setCookie(response, "_qxb");
  expect(header, "the answer sets the backup marker").toMatch(MARKER);
  return header!.slice(0, header!.indexOf(";"));
}

const savedAtOf = (pair: string) => Number(pair.slice("_qxb=".length, pair.indexOf(".")));
const digestOf = (pair: string) => pair.slice(pair.indexOf(".") + 1);
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A first backup of `cookies` for `fpid`; returns the Cookie header the browser then sends (FPID and marker). */
async function backedUp(shop: EdgeConfig, fpid: string, cookies: Record<string, string>): Promise<string> {
  const response = await boot(shop, cookies, { cookie: FPID(fpid) });
  expect(await restored(response)).toEqual([]);
  return `${FPID(fpid)}; ${markerPair(response)}`;
}

async function stored(key: string): Promise<VaultValue | null> {
  return env.COOKIE_VAULT.get(key, "json");
}

describe("the marker cookie", () => {
  it("is set after a backup is written: savedAt and digest, the vault's lifetime, the site's Domain, HttpOnly", async () => {
    const before = nowSeconds();
    const response = await boot(config("mark-set"), { _ga: "GA1.1.1.1" }, { cookie: FPID("marksetmark") });
    const header = setCookie(response, "_qxb")!;
    expect(header).toMatch(MARKER);
    expect(header.split("; ").slice(1)).toEqual([
      `Max-Age=${VAULT_TTL_SECONDS}`,
      "Domain=mark-set.example",
      "Path=/",
      "Secure",
      "HttpOnly",
      "SameSite=Lax",
    ]);
    const savedAt = savedAtOf(markerPair(response));
    expect(savedAt).toBeGreaterThanOrEqual(before);
    expect(savedAt).toBe((await stored("mark-set:FPID2.2.marksetmark.1700000000"))!.savedAt);
  });

  it("is kept by an RFC 6265 cookie jar and sent back to the edge's host and the shop's own host", async () => {
    const shop = config("mark-jar");
    const response = await boot(shop, { _ga: "GA1.1.2.2" }, { cookie: FPID("markjarmark") });
    const jar = new CookieJar();
    // ignoreError stays false: a cookie the jar refuses fails the test here.
    for (const header of response.headers.getSetCookie()) await jar.setCookie(header, "https://ss.mark-jar.example/boot");
    const pair = markerPair(response);
    expect((await jar.getCookieString("https://ss.mark-jar.example/boot")).split("; ")).toContain(pair);
    expect((await jar.getCookieString("https://www.mark-jar.example/")).split("; ")).toContain(pair);
    // HttpOnly: a page script's view of the jar does not have it.
    expect(await jar.getCookieString("https://www.mark-jar.example/", { http: false })).not.toContain("_qxb=");
  });

  it("is not Secure when the request came over http, so a local http run keeps it", async () => {
    const shop = config("mark-http");
    const site = { ...siteFor(shop, "/boot"), url: new URL("http://ss.mark-http.example/boot") };
    const header = setCookie(await boot(shop, { _ga: "GA1.1.3.3" }, { cookie: FPID("markhttpmark"), site }), "_qxb")!;
    expect(header).toMatch(MARKER);
    expect(header.split("; ")).not.toContain("Secure");
    expect(header.split("; ")).toContain("HttpOnly");
  });

  it("is set after a read that found nothing to write, with the stored backup's savedAt", async () => {
    const shop = config("mark-read");
    const fpid = "FPID2.2.markreadmark.1700000000";
    const savedAt = nowSeconds() - 86_400;
    await env.COOKIE_VAULT.put(`mark-read:${fpid}`, JSON.stringify({ cookies: { _ga: "GA1.1.4.4" }, savedAt }));
    const vault = spyVault();
    const response = await boot(shop, { _ga: "GA1.1.4.4" }, { cookie: `FPID=${fpid}` });
    expect(vault.get).toHaveBeenCalledTimes(1);
    expect(vault.put).not.toHaveBeenCalled();
    expect(savedAtOf(markerPair(response))).toBe(savedAt);
  });

  it("is not set on the request that issues FPID, nor with restoration off", async () => {
    expect(setCookie(await boot(config("mark-new"), { _ga: "GA1.1.5.5" }), "_qxb")).toBeNull();
    const off = config("mark-off", { modules: { cookieKeeper: { enabled: true }, cookieRestoration: { enabled: false } } });
    expect(setCookie(await boot(off, { _ga: "GA1.1.5.5" }, { cookie: FPID("markoffmark") }), "_qxb")).toBeNull();
  });
});

describe("a page view with the marker", () => {
  it("reads and writes no KV when the browser shows what the backup holds, and sets no new marker", async () => {
    const shop = config("mark-same");
    const cookie = await backedUp(shop, "marksamemark", { _ga: "GA1.1.6.6", _fbp: "fb.1.6.6" });
    const vault = spyVault();
    const response = await boot(shop, { _ga: "GA1.1.6.6", _fbp: "fb.1.6.6" }, { cookie });
    expect(await restored(response)).toEqual([]);
    expect(vault.get).not.toHaveBeenCalled();
    expect(vault.put).not.toHaveBeenCalled();
    expect(setCookie(response, "_qxb")).toBeNull();
  });

  it("reads and writes no KV when only GA4's session cookie changed", async () => {
    const shop = config("mark-ga4");
    const cookie = await backedUp(shop, "markga4mark", { _ga: "GA1.1.7.7", _ga_DEMO: "GS1.1.1700000000.1.1.1700000000.0.0.0" });
    const vault = spyVault();
    const response = await boot(shop, { _ga: "GA1.1.7.7", _ga_DEMO: "GS1.1.1700000900.2.1.1700000950.0.0.0" }, { cookie });
    expect(await restored(response)).toEqual([]);
    expect(vault.get).not.toHaveBeenCalled();
    expect(vault.put).not.toHaveBeenCalled();
  });

  it("reads and writes at once when a non-volatile value changed, and the new marker differs", async () => {
    const shop = config("mark-changed");
    const cookie = await backedUp(shop, "markchgmark", { _ga: "GA1.1.8.8", _fbp: "fb.1.8.8" });
    const vault = spyVault();
    const response = await boot(shop, { _ga: "GA1.1.8.8", _fbp: "fb.1.9.9" }, { cookie });
    expect(vault.get).toHaveBeenCalledTimes(1);
    expect(vault.put).toHaveBeenCalledTimes(1);
    expect((await stored("mark-changed:FPID2.2.markchgmark.1700000000"))!.cookies).toEqual({ _ga: "GA1.1.8.8", _fbp: "fb.1.9.9" });
    expect(digestOf(markerPair(response))).not.toBe(digestOf(cookie.split("; ")[1]!));
  });

  it("reads and writes at once when a new name appears, a new GA4 session cookie included", async () => {
    const shop = config("mark-newname");
    const cookie = await backedUp(shop, "marknewname", { _ga: "GA1.1.10.10" });
    const vault = spyVault();
    await boot(shop, { _ga: "GA1.1.10.10", _ga_OTHER: "GS1.1.1700000000.1.1.1700000000.0.0.0" }, { cookie });
    expect(vault.get).toHaveBeenCalledTimes(1);
    expect(vault.put).toHaveBeenCalledTimes(1);
    expect(Object.keys((await stored("mark-newname:FPID2.2.marknewname.1700000000"))!.cookies).sort()).toEqual(["_ga", "_ga_OTHER"]);
  });

  it("reads and restores a cookie the browser lost, and the new marker vouches for the restored browser", async () => {
    const shop = config("mark-lost");
    const cookie = await backedUp(shop, "marklostmark", { _ga: "GA1.1.11.11", _fbp: "fb.1.11.11" });
    const vault = spyVault();
    const response = await boot(shop, { _fbp: "fb.1.11.11" }, { cookie });
    expect(await restored(response)).toEqual([{ name: "_ga", value: "GA1.1.11.11", maxAge: 395 * 86_400 }]);
    expect(vault.get).toHaveBeenCalledTimes(1);
    expect(vault.put).not.toHaveBeenCalled();

    // The script wrote _ga back; the next page view shows both again, with the marker of the restoring answer.
    const after = await boot(
      shop,
      { _ga: "GA1.1.11.11", _fbp: "fb.1.11.11" },
      { cookie: `${FPID("marklostmark")}; ${markerPair(response)}` },
    );
    expect(await restored(after)).toEqual([]);
    expect(vault.get).toHaveBeenCalledTimes(1);
  });

  it("restores a lost cookie the Cookie header still carried when the marker was set, once the header loses it too", async () => {
    const shop = config("mark-header");
    const cookie = await backedUp(shop, "markheadmark", { _ga: "GA1.1.12.12", _fbp: "fb.1.12.12" });
    // The page stops seeing _fbp (say it moved to another path) while the Cookie header still has it: present.
    const vault = spyVault();
    const seen = await boot(shop, { _ga: "GA1.1.12.12" }, { cookie: `${cookie}; _fbp=fb.1.12.12` });
    expect(await restored(seen)).toEqual([]);
    expect(vault.get).toHaveBeenCalledTimes(1);
    // Gone from both: restored, even though the marker of the previous answer is sent.
    const lost = await boot(shop, { _ga: "GA1.1.12.12" }, { cookie: `${FPID("markheadmark")}; ${markerPair(seen)}` });
    expect(await restored(lost)).toEqual([{ name: "_fbp", value: "fb.1.12.12", maxAge: 395 * 86_400 }]);
  });

  it("backs up a value the page now sends that only the Cookie header carried before", async () => {
    const shop = config("mark-visible");
    const first = await boot(shop, { _ga: "GA1.1.13.13" }, { cookie: `${FPID("markvisimark")}; _fbp=fb.1.13.13` });
    const cookie = `${FPID("markvisimark")}; ${markerPair(first)}; _fbp=fb.1.13.13`;
    expect((await stored("mark-visible:FPID2.2.markvisimark.1700000000"))!.cookies).toEqual({ _ga: "GA1.1.13.13" });
    const vault = spyVault();
    await boot(shop, { _ga: "GA1.1.13.13", _fbp: "fb.1.13.13" }, { cookie });
    expect(vault.get).toHaveBeenCalledTimes(1);
    expect(vault.put).toHaveBeenCalledTimes(1);
    expect((await stored("mark-visible:FPID2.2.markvisimark.1700000000"))!.cookies).toEqual({ _ga: "GA1.1.13.13", _fbp: "fb.1.13.13" });
  });

  it("reads when the marker was set for another identity", async () => {
    const shop = config("mark-other");
    const theirs = await backedUp(shop, "markotherone", { _ga: "GA1.1.14.14" });
    await backedUp(shop, "markothertwo", { _ga: "GA1.1.14.14" });
    const vault = spyVault();
    await boot(shop, { _ga: "GA1.1.14.14" }, { cookie: `${FPID("markothertwo")}; ${theirs.split("; ")[1]}` });
    expect(vault.get).toHaveBeenCalledTimes(1);
  });

  it("reads when the marker's savedAt is older than the refresh period, and rewrites the backup due for it", async () => {
    const shop = config("mark-old");
    const fpid = "FPID2.2.markoldmark.1700000000";
    const cookie = await backedUp(shop, "markoldmark", { _ga: "GA1.1.15.15" });
    const old = nowSeconds() - VAULT_REFRESH_SECONDS - 1;
    await env.COOKIE_VAULT.put(`mark-old:${fpid}`, JSON.stringify({ cookies: { _ga: "GA1.1.15.15" }, savedAt: old }));
    const vault = spyVault();
    const response = await boot(shop, { _ga: "GA1.1.15.15" }, { cookie: `FPID=${fpid}; _qxb=${old}.${digestOf(cookie)}` });
    expect(vault.get).toHaveBeenCalledTimes(1);
    expect(vault.put).toHaveBeenCalledTimes(1);
    expect(savedAtOf(markerPair(response))).toBeGreaterThan(old);
  });

  it("falls back to reading, and answers 200, for a garbled, forged or future marker", async () => {
    const shop = config("mark-garbled");
    const cookie = await backedUp(shop, "markgarbled", { _ga: "GA1.1.16.16" });
    const [fpid, pair] = cookie.split("; ") as [string, string];
    const digest = digestOf(pair);
    const savedAt = savedAtOf(pair);
    const markers = [
      "",
      "garbage",
      `${savedAt}`,
      `${savedAt}.${digest}x`,
      `${savedAt}.${digest.slice(1)}`,
      `-1.${digest}`,
      `${savedAt}.${"A".repeat(16)}`,
      `${savedAt + 3600}.${digest}`,
      "%E0%A4%A",
    ];
    for (const marker of markers) {
      const vault = spyVault();
      const response = await boot(shop, { _ga: "GA1.1.16.16" }, { cookie: `${fpid}; _qxb=${marker}` });
      expect(response.status, marker).toBe(200);
      expect(vault.get, marker).toHaveBeenCalledTimes(1);
      expect(markerPair(response), marker).toBe(pair);
      vi.restoreAllMocks();
    }
  });
});

describe("volatile values", () => {
  it("without a marker, a change of only GA4's session cookie reads and writes nothing", async () => {
    const shop = config("mark-volatile");
    await boot(shop, { _ga: "GA1.1.17.17", _ga_DEMO: "GS1.1.1" }, { cookie: FPID("markvolatile") });
    const vault = spyVault();
    await boot(shop, { _ga: "GA1.1.17.17", _ga_DEMO: "GS1.1.2" }, { cookie: FPID("markvolatile") });
    expect(vault.get).toHaveBeenCalledTimes(1);
    expect(vault.put).not.toHaveBeenCalled();
  });

  it("go along with the next write that another change makes", async () => {
    const shop = config("mark-along");
    const key = "mark-along:FPID2.2.markalongmark.1700000000";
    await boot(shop, { _ga: "GA1.1.18.18", _ga_DEMO: "GS1.1.1" }, { cookie: FPID("markalongmark") });
    await boot(shop, { _ga: "GA1.1.18.18", _ga_DEMO: "GS1.1.2" }, { cookie: FPID("markalongmark") });
    expect((await stored(key))!.cookies._ga_DEMO).toBe("GS1.1.1");
    await boot(shop, { _ga: "GA1.1.18.18", _ga_DEMO: "GS1.1.3", _fbp: "fb.1.18.18" }, { cookie: FPID("markalongmark") });
    expect((await stored(key))!.cookies).toEqual({ _ga: "GA1.1.18.18", _ga_DEMO: "GS1.1.3", _fbp: "fb.1.18.18" });
  });
});
