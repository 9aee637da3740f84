// GET <loaderPath><token>.js: the script, its injected settings, caching validators, and unknown tokens.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { EdgeConfig } from "../../schemas/edge-config";
import { BAIT_FILE } from "../../workers/loader/client";
import { BUILD_HASH, type ClientSettings, clientSettings } from "../../workers/loader/script";
import { clearTokenCache } from "../../workers/loader/serve-script";
import { callLoader, gzipSize, loaderConfig, loaderResponse, registeredConfig, siteFor } from "./loader-support";

afterEach(() => {
  vi.restoreAllMocks();
  clearTokenCache();
});

const CALL = "})(window,document,";

/** The settings literal as injected, parsed back. */
function injected(script: string): ClientSettings {
  return JSON.parse(script.slice(script.lastIndexOf(CALL) + CALL.length, script.lastIndexOf(");")));
}

function scriptSite(config: EdgeConfig, options?: Parameters<typeof siteFor>[2]) {
  return siteFor(config, `${config.loaderPath}${config.loaderToken}.js`, options);
}

function decodeBase64url(value: string): string {
  return atob(value.replace(/-/g, "+").replace(/_/g, "/"));
}

describe("loader paths", () => {
  it("leaves every other path to the router", async () => {
    const config = loaderConfig({ containerId: "paths-shop" });
    for (const path of ["/", "/g/collect", "/l/", "/l/a/b.js", "/l/token.css", "/k/", "/boot/x", "/bootstrap"]) {
      expect(await callLoader(siteFor(config, path)), path).toBeNull();
    }
  });

  it("uses the container's own loaderPath instead of /l/", async () => {
    const config = await registeredConfig({ containerId: "custom-path", loaderPath: "/js/" });
    expect((await loaderResponse(siteFor(config, `/js/${config.loaderToken}.js`))).status).toBe(200);
    expect(await callLoader(siteFor(config, `/l/${config.loaderToken}.js`))).toBeNull();
  });
});

describe("GET <loaderPath><token>.js", () => {
  it("serves JavaScript that browsers and Cloudflare may cache for five minutes", async () => {
    const config = await registeredConfig({ containerId: "script-shop" });
    const response = await loaderResponse(scriptSite(config));
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/javascript; charset=utf-8");
    expect(response.headers.get("Cache-Control")).toBe("public, max-age=300");
    expect(response.headers.get("ETag")).toMatch(new RegExp(`^"1-${BUILD_HASH}-[0-9a-z]+"$`));
    expect(response.headers.get("Vary")).toBe("X-Public-Host");
  });

  it("injects the proxy route to GTM, never a GTM URL", async () => {
    const config = await registeredConfig({ containerId: "proxy-shop", proxyPath: "/t7/", proxyParam: "q", gtmId: "GTM-PROXY1" });
    const script = await (await loaderResponse(scriptSite(config))).text();
    const settings = injected(script);
    expect(settings).toMatchObject({ k: "/t7/", q: "q", l: "/l/", m: "" });
    expect(decodeBase64url(settings.g)).toBe("/gtm.js?id=GTM-PROXY1");
    expect(script).not.toContain("googletagmanager");
    expect(script).not.toContain("gtm.js?");
  });

  it("loads a G- (Google tag) id as gtag/js through the same proxy route, and tells the client to init gtag", async () => {
    const config = await registeredConfig({ containerId: "gtag-shop", gtmId: "G-GA4TEST1" });
    const settings = injected(await (await loaderResponse(scriptSite(config))).text());
    expect(decodeBase64url(settings.g)).toBe("/gtag/js?id=G-GA4TEST1");
    expect(settings).toMatchObject({ i: "G-GA4TEST1", n: "dataLayer" });
  });

  it("adds a GTM environment's gtm_auth and gtm_preview, and a custom dataLayer as l", async () => {
    const config = await registeredConfig({
      containerId: "env-shop",
      gtmId: "GTM-ENV123",
      gtmEnvironment: { auth: "aBcD1234efGH", preview: "env-7" },
      dataLayer: "shopLayer",
    });
    const settings = injected(await (await loaderResponse(scriptSite(config))).text());
    expect(decodeBase64url(settings.g)).toBe("/gtm.js?id=GTM-ENV123&l=shopLayer&gtm_auth=aBcD1234efGH&gtm_preview=env-7&gtm_cookies_win=x");
    expect(settings).toMatchObject({ i: "", n: "shopLayer" });
  });

  it("sends no cookie values to /boot when restoration is off", async () => {
    const config = await registeredConfig({ containerId: "no-restore", modules: { cookieRestoration: { enabled: false } } });
    expect(injected(await (await loaderResponse(scriptSite(config))).text()).c).toEqual([]);
  });

  it("puts the same-origin mount prefix in front of every endpoint", async () => {
    const config = await registeredConfig({ containerId: "mount-shop", publicHosts: ["www.mount-shop.example/metrics"] });
    const site = scriptSite(config, { publicHost: "www.mount-shop.example", mountPrefix: "/metrics" });
    expect(injected(await (await loaderResponse(site)).text()).m).toBe("/metrics");
  });

  it("scopes restored cookies to the registrable domain of the public host", async () => {
    const config = await registeredConfig({ containerId: "domain-shop", publicHosts: ["ss.domain-shop.co.uk"] });
    const site = scriptSite(config, { publicHost: "ss.domain-shop.co.uk" });
    expect(injected(await (await loaderResponse(site)).text()).d).toBe("domain-shop.co.uk");
  });

  it("turns restoration and detection on only when enabled and entitled", async () => {
    const full = await registeredConfig({ containerId: "flags-full" });
    expect(injected(await (await loaderResponse(scriptSite(full))).text())).toMatchObject({ r: true, a: true });

    const unentitled = await registeredConfig({ containerId: "flags-none", entitlements: [] });
    expect(injected(await (await loaderResponse(scriptSite(unentitled))).text())).toMatchObject({ r: false, a: false });

    const disabled = await registeredConfig({
      containerId: "flags-off",
      modules: { cookieRestoration: { enabled: false }, adblockDetection: { enabled: false } },
    });
    expect(injected(await (await loaderResponse(scriptSite(disabled))).text())).toMatchObject({ r: false, a: false });
  });

  it("stays under 2 KB gzipped with a long cookie list, a GTM environment and a long dataLayer name", async () => {
    const cookies = ["_ga", "_ga_*", "_fbp", "_fbc", "FPID", "_gcl_au", "_gcl_aw", "_uetsid", "_uetvid", "_ttp", "_pin_unauth", "_scid"];
    const config = await registeredConfig({
      containerId: "size-shop",
      gtmEnvironment: { auth: "x".repeat(64), preview: "env-123456789" },
      dataLayer: `shop_${"L".repeat(59)}`,
      modules: { cookieKeeper: { enabled: true, cookies }, cookieRestoration: { enabled: true }, adblockDetection: { enabled: true } },
    });
    const script = await (
      await loaderResponse(scriptSite(config, { publicHost: "www.size-shop.example", mountPrefix: "/metrics" }))
    ).text();
    expect(await gzipSize(script)).toBeLessThanOrEqual(2048);
  });

  it("escapes hostile config values so they cannot leave the string or the script element", async () => {
    const base = await registeredConfig({ containerId: "hostile-shop" });
    const hostile = '</script><script>alert(1)</script><!--\u2028\u2029"\\';
    const config: EdgeConfig = {
      ...base,
      proxyParam: hostile,
      modules: { ...base.modules, cookieKeeper: { ...base.modules.cookieKeeper, cookies: [hostile, "_ga"] } },
    };
    const site = scriptSite(config, { mountPrefix: `/${hostile}` });
    const script = await (await loaderResponse(site)).text();
    expect(script.toLowerCase()).not.toContain("</script");
    expect(script).not.toContain("<!--");
    expect(script).not.toMatch(/[\u2028\u2029]/);
    // Escaped, not dropped: the client sees exactly the configured values.
    expect(injected(script)).toEqual(clientSettings(site));
    expect(injected(script).c[0]).toBe(hostile);
  });
});

describe("validators", () => {
  it("answers 304 without a body when If-None-Match matches", async () => {
    const config = await registeredConfig({ containerId: "etag-shop" });
    const etag = (await loaderResponse(scriptSite(config))).headers.get("ETag")!;
    const response = await loaderResponse(scriptSite(config), { headers: { "If-None-Match": etag } });
    expect(response.status).toBe(304);
    expect(response.headers.get("ETag")).toBe(etag);
    expect(await response.text()).toBe("");
  });

  it("matches weak tags and tag lists", async () => {
    const config = await registeredConfig({ containerId: "etag-list" });
    const etag = (await loaderResponse(scriptSite(config))).headers.get("ETag")!;
    const response = await loaderResponse(scriptSite(config), { headers: { "If-None-Match": `"old", W/${etag}` } });
    expect(response.status).toBe(304);
  });

  it("serves the new script once the config version changed", async () => {
    const v1 = await registeredConfig({ containerId: "etag-bump" });
    const etag = (await loaderResponse(scriptSite(v1))).headers.get("ETag")!;
    const v2 = { ...v1, version: 2 };
    const response = await loaderResponse(scriptSite(v2), { headers: { "If-None-Match": etag } });
    expect(response.status).toBe(200);
    expect(response.headers.get("ETag")).toMatch(new RegExp(`^"2-${BUILD_HASH}-[0-9a-z]+"$`));
  });

  it("gives each public host its own tag, since the script's cookie domain follows it", async () => {
    const config = await registeredConfig({
      containerId: "etag-hosts",
      publicHosts: ["ss.etag-hosts.example", "ss.etag-hosts-de.example"],
    });
    const first = await loaderResponse(scriptSite(config, { publicHost: "ss.etag-hosts.example" }));
    const second = scriptSite(config, { publicHost: "ss.etag-hosts-de.example" });
    const etag = first.headers.get("ETag")!;
    expect((await loaderResponse(second)).headers.get("ETag")).not.toBe(etag);
    // A copy cached for one public host is never confirmed as current for the other.
    const revalidated = await loaderResponse(second, { headers: { "If-None-Match": etag } });
    expect(revalidated.status).toBe(200);
    expect(injected(await revalidated.text()).d).toBe("etag-hosts-de.example");
  });
});

describe("unknown tokens", () => {
  it("answer 404 with a JavaScript comment, so the page keeps running", async () => {
    const config = loaderConfig({ containerId: "unknown-tok" });
    const response = await loaderResponse(siteFor(config, "/l/lt_never_registered.js"));
    expect(response.status).toBe(404);
    expect(response.headers.get("Content-Type")).toBe("text/javascript; charset=utf-8");
    expect(await response.text()).toMatch(/^\/\*[\s\S]*\*\/$/);
  });

  it("treat a token of another container as unknown", async () => {
    const other = await registeredConfig({ containerId: "other-shop" });
    const mine = loaderConfig({ containerId: "mine-shop" });
    const response = await loaderResponse(siteFor(mine, `/l/${other.loaderToken}.js`));
    expect(response.status).toBe(404);
  });

  it("do not reach KV when the token is not the one this host's config names", async () => {
    const get = vi.spyOn(env.LOADER_TOKEN_MAP, "get");
    for (const path of ["/l/a%22b.js", "/l/lt_well_formed_junk.js"]) {
      const response = await loaderResponse(siteFor(loaderConfig(), path));
      expect(response.status).toBe(404);
    }
    expect(get).not.toHaveBeenCalled();
  });
});

describe("other methods and the bait file", () => {
  it("refuses POST on the script with 405", async () => {
    const config = await registeredConfig({ containerId: "method-shop" });
    const response = await loaderResponse(scriptSite(config), { method: "POST", body: "{}" });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("GET, HEAD");
  });

  it("serves the ad-block bait as an empty script without a token lookup", async () => {
    const get = vi.spyOn(env.LOADER_TOKEN_MAP, "get");
    const response = await loaderResponse(siteFor(loaderConfig(), `/l/${BAIT_FILE}`));
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/javascript; charset=utf-8");
    expect(get).not.toHaveBeenCalled();
  });
});
