// Loader script answers the mutation run found untested: `If-None-Match: *` and a failing token lookup.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { EdgeConfig } from "../../schemas/edge-config";
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
