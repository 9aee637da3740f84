// POST /boot: the _sid session, FPID or the site's identity cookie, the cookie vault round trip, writes only on
// change, module gating, bodies and CORS.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { BootResponse, VaultValue } from "../../schemas/loader";
import { handleLoader } from "../../workers/loader/handler";
import { VAULT_REFRESH_SECONDS, VAULT_TTL_SECONDS } from "../../workers/loader/vault";
import { boot, config, FPID, loaderResponse, restored, setCookie, siteFor, spyVault, startedSession } from "./loader-support";

afterEach(() => {
  vi.restoreAllMocks();
});

const YEAR_395 = 395 * 86_400;

describe("modules off", () => {
  it("answers nothing to restore and touches no KV when restoration is disabled", async () => {
    const vault = spyVault();
    const off = config("boot-off", { modules: { cookieKeeper: { enabled: true }, cookieRestoration: { enabled: false } } });
    const response = await boot(off, { _ga: "GA1.1.1.1" }, { cookie: FPID("off") });
    expect(await restored(response)).toEqual([]);
    expect(setCookie(response, "FPID")).toBeNull();
    expect(vault.get).not.toHaveBeenCalled();
    expect(vault.put).not.toHaveBeenCalled();
  });

  it("answers nothing to restore and touches no KV without the cookie_restoration entitlement", async () => {
    const vault = spyVault();
    const response = await boot(config("boot-unentitled", { entitlements: ["adblock_detection"] }), { _ga: "GA1.1.1.1" });
    expect(await restored(response)).toEqual([]);
    expect(setCookie(response, "FPID")).toBeNull();
    expect(vault.get).not.toHaveBeenCalled();
    expect(vault.put).not.toHaveBeenCalled();
  });
});

describe("FPID", () => {
  it("is created server-side, HttpOnly, for the registrable domain, when the browser has none", async () => {
    const response = await boot(config("boot-new"), {});
    const cookie = setCookie(response, "FPID")!;
    expect(cookie).toMatch(/^FPID=FPID2\.2\.[A-Za-z0-9_-]{24}\.\d{10}; /);
    expect(cookie.split("; ").slice(1)).toEqual([
      `Max-Age=${YEAR_395}`,
      "Domain=boot-new.example",
      "Path=/",
      "Secure",
      "HttpOnly",
      "SameSite=Lax",
    ]);
  });

  it("is host-only on an infra host, whose registrable domain other containers share", async () => {
    const infra = config("boot-infra");
    const response = await loaderResponse(siteFor(infra, "/boot", { publicHost: "boot-infra.edge.example" }), {
      method: "POST",
      body: JSON.stringify({ cookies: {} }),
    });
    const cookie = setCookie(response, "FPID")!;
    expect(cookie).toMatch(/^FPID=/);
    expect(cookie).not.toContain("Domain=");
  });

  it("takes its lifetime from cookieKeeper.maxAgeDays", async () => {
    const short = config("boot-short", {
      modules: { cookieKeeper: { enabled: true, maxAgeDays: 30 }, cookieRestoration: { enabled: true } },
    });
    expect(setCookie(await boot(short, {}), "FPID")).toContain(`Max-Age=${30 * 86_400};`);
  });

  it("is not stored anywhere on the request that creates it", async () => {
    const vault = spyVault();
    await boot(config("boot-new-quiet"), { _ga: "GA1.1.5.5" });
    expect(vault.get).not.toHaveBeenCalled();
    expect(vault.put).not.toHaveBeenCalled();
  });

  it("is replaced when the browser's value cannot be a vault key", async () => {
    const vault = spyVault();
    const response = await boot(config("boot-bad-fpid"), { _ga: "GA1.1.1.1" }, { cookie: "FPID=short" });
    expect(setCookie(response, "FPID")).toMatch(/^FPID=FPID2\.2\./);
    expect(vault.get).not.toHaveBeenCalled();
  });

  it("is kept when the browser sends one", async () => {
    const response = await boot(config("boot-keep"), {}, { cookie: FPID("keepkeepkeep") });
    expect(setCookie(response, "FPID")).toBeNull();
  });
});

describe("_sid", () => {
  const SID = /^_sid=([A-Za-z0-9_-]{24}); Max-Age=1800; Domain=boot-sid\.example; Path=\/; Secure; SameSite=Lax$/;

  it("is issued with 30 minutes, Secure, SameSite=Lax and the site's Domain, and named in the answer", async () => {
    const response = await boot(config("boot-sid"), {});
    const id = setCookie(response, "_sid")!.match(SID)?.[1];
    expect(id).toBeDefined();
    expect(((await response.json()) as BootResponse).sessionId).toBe(id);
  });

  it("is renewed with the same value and a fresh 30 minutes when the browser sends a live one", async () => {
    const live = await startedSession(config("boot-sid"));
    const response = await boot(config("boot-sid"), {}, { cookie: `_sid=${live}` });
    expect(setCookie(response, "_sid")).toBe(`_sid=${live}; Max-Age=1800; Domain=boot-sid.example; Path=/; Secure; SameSite=Lax`);
    expect(((await response.json()) as BootResponse).sessionId).toBe(live);
  });

  it("is replaced when the edge did not start it: made up, or another container's", async () => {
    const theirs = await startedSession(config("boot-sid-other"));
    for (const sent of ["live_session_0001", theirs]) {
      const response = await boot(config("boot-sid"), {}, { cookie: `_sid=${sent}` });
      expect(setCookie(response, "_sid")).toMatch(SID);
      expect(((await response.json()) as BootResponse).sessionId).not.toBe(sent);
    }
  });

  it("is replaced when the browser's value is not a session id", async () => {
    const response = await boot(config("boot-sid"), {}, { cookie: "_sid=a;b" });
    expect(setCookie(response, "_sid")).toMatch(SID);
    expect(setCookie(response, "_sid")).not.toContain("_sid=a;");
  });

  it("is kept with every module off, and no KV is touched for it", async () => {
    const vault = spyVault();
    const off = config("boot-sid", { entitlements: [], modules: {} });
    const live = await startedSession(off);
    const response = await boot(off, {}, { cookie: `_sid=${live}` });
    expect(setCookie(response, "_sid")).toContain(`_sid=${live}; Max-Age=1800;`);
    expect(vault.get).not.toHaveBeenCalled();
  });
});

describe("identityCookie", () => {
  const siteSet = (id: string) => config(id, { identityCookie: "shop_uid" });

  it("keys the backup by the site's own cookie, and the edge issues no FPID", async () => {
    const shop = siteSet("boot-identity");
    const cookie = "shop_uid=u-1234567890";
    expect(await restored(await boot(shop, { _ga: "GA1.1.7.7" }, { cookie }))).toEqual([]);
    const lost = await boot(shop, {}, { cookie });
    expect(await restored(lost)).toEqual([{ name: "_ga", value: "GA1.1.7.7", maxAge: YEAR_395 }]);
    expect(setCookie(lost, "FPID")).toBeNull();
    expect(await env.COOKIE_VAULT.get("boot-identity:u-1234567890", "json")).toMatchObject({ cookies: { _ga: "GA1.1.7.7" } });
  });

  it("does not make FPID a key: a browser with only FPID gets nothing back and nothing stored", async () => {
    const vault = spyVault();
    const response = await boot(siteSet("boot-identity-none"), { _ga: "GA1.1.8.8" }, { cookie: FPID("fpidonly1") });
    expect(await restored(response)).toEqual([]);
    expect(setCookie(response, "FPID")).toBeNull();
    expect(vault.get).not.toHaveBeenCalled();
    expect(vault.put).not.toHaveBeenCalled();
  });
});

describe("restoration", () => {
  it("gives back backed-up cookies the browser lost, with the Cookie Keeper lifetime", async () => {
    const shop = config("boot-round");
    const cookie = FPID("roundtrip01");
    expect(await restored(await boot(shop, { _ga: "GA1.1.111.222", _fbp: "fb.1.333.444" }, { cookie }))).toEqual([]);

    const answer = await restored(await boot(shop, { _fbp: "fb.1.333.444" }, { cookie }));
    expect(answer).toEqual([{ name: "_ga", value: "GA1.1.111.222", maxAge: YEAR_395 }]);
  });

  it("does not restore a cookie the Cookie header still carries", async () => {
    const shop = config("boot-header");
    const cookie = FPID("headerheader");
    await boot(shop, { _ga: "GA1.1.1.2" }, { cookie });
    expect(await restored(await boot(shop, {}, { cookie: `${cookie}; _ga=GA1.1.1.2` }))).toEqual([]);
  });

  it("works with Cookie Keeper's Set-Cookie rewriting off, using its cookie list and lifetime", async () => {
    const shop = config("boot-keeper-off", {
      modules: { cookieKeeper: { enabled: false, cookies: ["_fbp"], maxAgeDays: 90 }, cookieRestoration: { enabled: true } },
    });
    const cookie = FPID("keeperoffoff");
    await boot(shop, { _fbp: "fb.1.2.3", _ga: "GA1.1.2.3" }, { cookie });
    expect(await restored(await boot(shop, {}, { cookie }))).toEqual([{ name: "_fbp", value: "fb.1.2.3", maxAge: 90 * 86_400 }]);
  });

  it("keeps backups per FPID: another user gets nothing", async () => {
    const shop = config("boot-users");
    await boot(shop, { _ga: "GA1.1.7.7" }, { cookie: FPID("user-aaaaaa") });
    expect(await restored(await boot(shop, {}, { cookie: FPID("user-bbbbbb") }))).toEqual([]);
  });

  it("drops a name the container no longer lists instead of restoring it", async () => {
    const cookie = FPID("delistdelist");
    const both = config("boot-delist", {
      modules: { cookieKeeper: { enabled: true, cookies: ["_ga", "_fbp"] }, cookieRestoration: { enabled: true } },
    });
    await boot(both, { _ga: "GA1.1.4.4", _fbp: "fb.1.4.4" }, { cookie });
    const gaOnly = { ...both, version: 2, modules: { ...both.modules, cookieKeeper: { ...both.modules.cookieKeeper, cookies: ["_ga"] } } };
    expect((await restored(await boot(gaOnly, {}, { cookie }))).map((c) => c.name)).toEqual(["_ga"]);
    const stored = (await env.COOKIE_VAULT.get(`boot-delist:${cookie.slice("FPID=".length)}`, "json")) as VaultValue;
    expect(stored.cookies).toEqual({ _ga: "GA1.1.4.4" });
  });

  it("backs up only listed cookies, never FPID, HttpOnly names or the edge's backup marker", async () => {
    const shop = config("boot-list", {
      modules: {
        cookieKeeper: { enabled: true, cookies: ["_ga", "_ga_*", "FPID", "_secret", "_q*"], httpOnly: ["FPID", "_secret"] },
        cookieRestoration: { enabled: true },
      },
    });
    const fpid = "FPID2.2.listlistlist.1700000000";
    const sent = { _ga: "GA1.1.1.1", _ga_ABC: "GS1.1.2", session: "s3cr3t", FPID: "forged", _secret: "x", _qxb: "forged" };
    await boot(shop, sent, { cookie: `FPID=${fpid}` });
    const stored = (await env.COOKIE_VAULT.get(`boot-list:${fpid}`, "json")) as VaultValue;
    expect(stored.cookies).toEqual({ _ga: "GA1.1.1.1", _ga_ABC: "GS1.1.2" });
  });
});

describe("vault writes", () => {
  it("writes nothing when the cookies did not change", async () => {
    const shop = config("boot-same");
    const cookie = FPID("samesamesame");
    await boot(shop, { _ga: "GA1.1.9.9" }, { cookie });
    const vault = spyVault();
    await boot(shop, { _ga: "GA1.1.9.9" }, { cookie });
    expect(vault.get).toHaveBeenCalledTimes(1);
    expect(vault.put).not.toHaveBeenCalled();
  });

  it("writes once, with the new value and a ~400 day TTL, when a cookie changed", async () => {
    const shop = config("boot-change");
    const cookie = FPID("changechange");
    await boot(shop, { _ga: "GA1.1.1.1" }, { cookie });
    const vault = spyVault();
    await boot(shop, { _ga: "GA1.1.2.2" }, { cookie });
    expect(vault.put).toHaveBeenCalledTimes(1);
    expect(vault.put.mock.calls[0]![2]).toEqual({ expirationTtl: VAULT_TTL_SECONDS });
    const stored = JSON.parse(vault.put.mock.calls[0]![1] as string) as VaultValue;
    expect(stored.cookies).toEqual({ _ga: "GA1.1.2.2" });
  });

  it("writes a cookie added to an existing backup, keeping the ones it had", async () => {
    const shop = config("boot-add");
    const cookie = FPID("addaddaddadd");
    await boot(shop, { _ga: "GA1.1.4.4" }, { cookie });
    const vault = spyVault();
    await boot(shop, { _ga: "GA1.1.4.4", _fbp: "fb.1.2.3" }, { cookie });
    expect(vault.put).toHaveBeenCalledTimes(1);
    const stored = (await env.COOKIE_VAULT.get("boot-add:FPID2.2.addaddaddadd.1700000000", "json")) as VaultValue;
    expect(stored.cookies).toEqual({ _ga: "GA1.1.4.4", _fbp: "fb.1.2.3" });
  });

  it("stores savedAt in seconds since the epoch", async () => {
    const before = Math.floor(Date.now() / 1000);
    await boot(config("boot-seconds"), { _ga: "GA1.1.5.5" }, { cookie: FPID("secondssecs") });
    const after = Math.ceil(Date.now() / 1000);
    const stored = (await env.COOKIE_VAULT.get("boot-seconds:FPID2.2.secondssecs.1700000000", "json")) as VaultValue;
    expect(stored.savedAt).toBeGreaterThanOrEqual(before);
    expect(stored.savedAt).toBeLessThanOrEqual(after);
  });

  it("writes nothing for a user with nothing to back up", async () => {
    const vault = spyVault();
    await boot(config("boot-empty"), {}, { cookie: FPID("emptyemptyy") });
    expect(vault.put).not.toHaveBeenCalled();
  });

  it("rewrites an unchanged backup once it is due for its refresh, so it never expires for a returning user", async () => {
    const shop = config("boot-refresh");
    const fpid = "FPID2.2.refreshrefresh.1700000000";
    const old: VaultValue = { cookies: { _ga: "GA1.1.3.3" }, savedAt: Math.floor(Date.now() / 1000) - VAULT_REFRESH_SECONDS - 1 };
    await env.COOKIE_VAULT.put(`boot-refresh:${fpid}`, JSON.stringify(old));
    const vault = spyVault();
    await boot(shop, { _ga: "GA1.1.3.3" }, { cookie: `FPID=${fpid}` });
    expect(vault.put).toHaveBeenCalledTimes(1);
  });
});

describe("bodies", () => {
  const post = (body: string, headers: Record<string, string> = {}) =>
    loaderResponse(siteFor(config("boot-bodies"), "/boot"), { method: "POST", body, headers });

  it("rejects invalid JSON with 400", async () => {
    const response = await post("{cookies:");
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_json" });
  });

  it("rejects wrong fields with 400 naming them", async () => {
    for (const body of [{ cookies: "x" }, { cookies: {}, extra: 1 }, { cookies: { _ga: "a;b" } }, { cookies: { "a b": "1" } }]) {
      const response = await post(JSON.stringify(body));
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(await response.json()).toMatchObject({ error: "invalid_body" });
    }
  });

  it("rejects JSON arrays, at the top and as the cookie map, with 400", async () => {
    for (const body of ["[]", '{"cookies": ["x"]}', '[{"cookies": {}}]']) {
      const response = await post(body);
      expect(response.status, body).toBe(400);
      expect(await response.json()).toMatchObject({ error: "invalid_body" });
    }
  });

  it("rejects bodies over 16 KiB with 413", async () => {
    const response = await post(JSON.stringify({ cookies: { _ga: "x".repeat(17 * 1024) } }));
    expect(response.status).toBe(413);
  });

  it("refuses GET with 405", async () => {
    const response = await loaderResponse(siteFor(config("boot-get"), "/boot"));
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("POST");
  });
});

describe("CORS", () => {
  it("reflects a trusted Origin with credentials", async () => {
    const response = await boot(config("boot-cors"), {}, { headers: { Origin: "https://www.boot-cors.example" } });
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://www.boot-cors.example");
    expect(response.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    expect(response.headers.get("Vary")).toBe("Origin");
  });

  it("grants nothing to an untrusted Origin", async () => {
    const response = await boot(config("boot-cors-no"), {}, { headers: { Origin: "https://evil.example" } });
    expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("keeps the CORS grant on errors, so the page can read them", async () => {
    const response = await loaderResponse(siteFor(config("boot-cors-err"), "/boot"), {
      method: "POST",
      body: "nope",
      headers: { Origin: "https://www.boot-cors-err.example" },
    });
    expect(response.status).toBe(400);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://www.boot-cors-err.example");
  });
});

describe("without EDGE_AUTH_SECRET", () => {
  it("answers 503 and vouches for nothing (an empty key would let anyone make proofs and session ids)", async () => {
    const shop = config("boot-nosecret");
    const ctx = createExecutionContext();
    const request = new Request(siteFor(shop, "/boot").url, { method: "POST", body: '{"cookies":{}}' });
    const response = await handleLoader(request, { ...env, EDGE_AUTH_SECRET: "" }, ctx, siteFor(shop, "/boot"));
    await waitOnExecutionContext(ctx);
    expect(response?.status).toBe(503);
    expect(response?.headers.getSetCookie()).toEqual([]);
  });
});
