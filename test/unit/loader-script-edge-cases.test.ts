// Loader script answers the mutation run found untested: `If-None-Match: *`, a failing token lookup, methods and
// HEAD, and the ad-block bait.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { EdgeConfig } from "../../schemas/edge-config";
import { BAIT_FILE } from "../../workers/loader/client";
import { clearTokenCache } from "../../workers/loader/serve-script";
import { loaderResponse, registeredConfig, siteFor } from "./loader-support";

const scriptSite = (config: EdgeConfig) => siteFor(config, `${config.loaderPath}${config.loaderToken}.js`);

afterEach(() => {
  vi.restoreAllMocks();
  clearTokenCache();
});

describe("If-None-Match: *", () => {
  it("matches any current script: 304 without a body", async () => {
    const config = await registeredConfig({ containerId: "etag-star" });
    const response = await loaderResponse(scriptSite(config), { headers: { "If-None-Match": " * " } });
    expect(response.status).toBe(304);
    expect(await response.text()).toBe("");
  });
});

describe("a token lookup that fails", () => {
  it("answers 503 with a JavaScript comment that no cache keeps, so the page does not break", async () => {
    const config = await registeredConfig({ containerId: "token-kv-down" });
    clearTokenCache();
    vi.spyOn(env.LOADER_TOKEN_MAP, "get").mockRejectedValue(new Error("KV GET failed: 503"));
    const response = await loaderResponse(scriptSite(config));
    expect(response.status).toBe(503);
    expect(response.headers.get("Content-Type")).toContain("javascript");
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(await response.text()).toBe("/* loader temporarily unavailable */");
  });
});

describe("methods and HEAD", () => {
  it("refuses a POST to the script with 405, naming the methods it takes", async () => {
    const config = await registeredConfig({ containerId: "script-post" });
    const response = await loaderResponse(scriptSite(config), { method: "POST", body: "{}" });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("GET, HEAD");
    expect(await response.json()).toEqual({ error: "method_not_allowed", message: "use GET, HEAD" });
  });

  it("answers HEAD for the script with the GET's headers and no body", async () => {
    const config = await registeredConfig({ containerId: "script-head" });
    const get = await loaderResponse(scriptSite(config));
    const head = await loaderResponse(scriptSite(config), { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("ETag")).toBe(get.headers.get("ETag"));
    expect(head.headers.get("Content-Type")).toBe("text/javascript; charset=utf-8");
    expect(await head.text()).toBe("");
  });

  it("serves the script as JavaScript that browsers must not sniff as anything else", async () => {
    const config = await registeredConfig({ containerId: "script-nosniff" });
    expect((await loaderResponse(scriptSite(config))).headers.get("X-Content-Type-Options")).toBe("nosniff");
  });
});

describe("the ad-block bait", () => {
  const baitSite = (config: EdgeConfig) => siteFor(config, `${config.loaderPath}${BAIT_FILE}`);

  it("is an empty script every container shares, cached for a day", async () => {
    const response = await loaderResponse(baitSite(await registeredConfig({ containerId: "bait-get" })));
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("public, max-age=86400");
    expect(await response.text()).toBe("/* */");
  });

  it("answers HEAD without a body", async () => {
    const response = await loaderResponse(baitSite(await registeredConfig({ containerId: "bait-head" })), { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
  });
});
