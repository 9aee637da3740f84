// The router proxying to a real loopback upstream: paths, the obfuscated path, headers, bodies, redirects and
// upstream failures.
import { describe, expect, it } from "vitest";
import { callRouter, deadUrl, encodeTarget, routerRequest, seedContainer } from "../support/router-harness";

interface Echo {
  method: string;
  path: string;
  search: string;
  headers: Record<string, string>;
  bodyBytes: number;
  bodySha256: string;
}

async function echoed(response: Response): Promise<Echo> {
  expect(response.status).toBe(200);
  return (await response.json()) as Echo;
}

describe("pass-through", () => {
  it("proxies any other path with its query to the same path on the upstream", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.infraHosts[0]!, "/echo/a/b?x=1&y=%20z"));
    const echo = await echoed(response);
    expect(echo.path).toBe("/echo/a/b");
    expect(echo.search).toBe("?x=1&y=%20z");
  });

  it("passes the method through", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.infraHosts[0]!, "/echo", { method: "PUT", body: "x" }));
    expect((await echoed(response)).method).toBe("PUT");
  });

  it("returns the upstream's status for a path it does not know", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.infraHosts[0]!, "/nope"));
    expect(response.status).toBe(404);
    expect(await response.text()).toBe("not found");
  });

  it("never proxies /_edge/ below a same-origin mount", async () => {
    const config = await seedContainer({ publicHosts: [`www.${crypto.randomUUID().slice(0, 8)}.example/metrics`] });
    const host = config.publicHosts[0]!.split("/")[0]!;
    const { response } = await callRouter(routerRequest(host, "/metrics/_edge/health"));
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: "not_found" });
  });
});

describe("obfuscated proxy path", () => {
  it("proxies GET /k/?p=<base64url> to the decoded path and query", async () => {
    const config = await seedContainer();
    const p = encodeTarget("/echo/g/collect?v=2&tid=G-X");
    const echo = await echoed((await callRouter(routerRequest(config.infraHosts[0]!, `/k/?p=${p}`))).response);
    expect(echo.path).toBe("/echo/g/collect");
    expect(echo.search).toBe("?v=2&tid=G-X");
  });

  it("proxies POST with its body", async () => {
    const config = await seedContainer();
    const p = encodeTarget("/echo/g/collect");
    const { response } = await callRouter(routerRequest(config.infraHosts[0]!, `/k/?p=${p}`, { method: "POST", body: "en=page_view" }));
    const echo = await echoed(response);
    expect(echo.method).toBe("POST");
    expect(echo.bodyBytes).toBe("en=page_view".length);
  });

  it("uses the container's own proxyPath and proxyParam", async () => {
    const config = await seedContainer({ proxyPath: "/t7/", proxyParam: "q" });
    const q = encodeTarget("/echo/custom");
    const echo = await echoed((await callRouter(routerRequest(config.infraHosts[0]!, `/t7/?q=${q}`))).response);
    expect(echo.path).toBe("/echo/custom");
  });

  it("answers 400 when the parameter is missing", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.infraHosts[0]!, "/k/?x=1"));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_proxy_target" });
  });

  it("answers 405 for other methods", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.infraHosts[0]!, `/k/?p=${encodeTarget("/echo")}`, { method: "DELETE" }));
    expect(response.status).toBe(405);
  });

  it.each([
    ["an absolute URL", "https://evil.example/echo"],
    ["a scheme-relative URL", "//evil.example/echo"],
    ["an @-trick", "@evil.example/echo"],
    ["a userinfo-looking path", ".evil.example/echo"],
    ["a backslash", "/\\evil.example/echo"],
    ["an encoded dot-dot", "/echo/%2e%2e/secret"],
    ["a double-encoded dot-dot", "/echo/%252e%252e/secret"],
    ["CR/LF", "/echo\r\nHost: evil.example"],
    ["a plain dot-dot", "/echo/../secret"],
  ])("answers 400 and fetches nothing for %s", async (_, target) => {
    const config = await seedContainer();
    const { response, records } = await callRouter(routerRequest(config.infraHosts[0]!, `/k/?p=${encodeTarget(target)}`));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_proxy_target" });
    expect(records[0]).toMatchObject({ upstreamStatus: null, reason: "invalid_proxy_target" });
  });

  it("answers 400 for a parameter that is not base64url", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.infraHosts[0]!, "/k/?p=%2F%2Fevil.example"));
    expect(response.status).toBe(400);
  });
});

describe("request headers to the upstream", () => {
  it("sets X-Forwarded-For to the client IP and drops a client-sent one", async () => {
    const config = await seedContainer();
    const request = routerRequest(config.infraHosts[0]!, "/echo", {
      headers: { "CF-Connecting-IP": "203.0.113.7", "X-Forwarded-For": "198.51.100.1" },
    });
    expect((await echoed((await callRouter(request)).response)).headers["x-forwarded-for"]).toBe("203.0.113.7");
  });

  it("sets X-Forwarded-Host to the public host and X-Forwarded-Proto", async () => {
    const config = await seedContainer();
    const echo = await echoed((await callRouter(routerRequest(config.publicHosts[0]!, "/echo"))).response);
    expect(echo.headers["x-forwarded-host"]).toBe(config.publicHosts[0]);
    expect(echo.headers["x-forwarded-proto"]).toBe("https");
  });

  it("sends the upstream's own host as Host", async () => {
    const config = await seedContainer();
    const echo = await echoed((await callRouter(routerRequest(config.infraHosts[0]!, "/echo"))).response);
    expect(echo.headers.host).toBe(new URL(config.upstream).host);
  });

  it("drops cf-* and hop-by-hop headers, and headers named in Connection", async () => {
    const config = await seedContainer();
    const request = routerRequest(config.infraHosts[0]!, "/echo", {
      headers: {
        "CF-Ray": "abc",
        "CF-IPCountry": "DE",
        "Proxy-Authorization": "x",
        "Keep-Alive": "5",
        Connection: "x-private",
        "X-Private": "1",
        "X-Public-Host": "x.example",
      },
    });
    const { headers } = await echoed((await callRouter(request)).response);
    for (const name of ["cf-ray", "cf-ipcountry", "proxy-authorization", "keep-alive", "x-private", "x-public-host"]) {
      expect(headers[name], name).toBeUndefined();
    }
  });

  it("passes X-Gtm-Server-Preview, cookies and other headers through", async () => {
    const config = await seedContainer();
    const request = routerRequest(config.infraHosts[0]!, "/echo", {
      headers: { "X-Gtm-Server-Preview": "ZW52LTV8abc", Cookie: "FPID=1; _ga=2", "User-Agent": "test-agent" },
    });
    const { headers } = await echoed((await callRouter(request)).response);
    expect(headers["x-gtm-server-preview"]).toBe("ZW52LTV8abc");
    expect(headers.cookie).toBe("FPID=1; _ga=2");
    expect(headers["user-agent"]).toBe("test-agent");
  });
});

describe("bodies and responses", () => {
  it("streams a 5 MB POST body through unchanged", async () => {
    const config = await seedContainer();
    const size = 5 * 1024 * 1024;
    const body = new Uint8Array(size);
    for (let i = 0; i < size; i++) body[i] = (i * 31) & 0xff;
    const expected = [...new Uint8Array(await crypto.subtle.digest("SHA-256", body))].map((b) => b.toString(16).padStart(2, "0")).join("");
    const stream = new Blob([body]).stream();
    const request = routerRequest(config.infraHosts[0]!, "/echo/upload", { method: "POST", body: stream, duplex: "half" } as RequestInit);
    const echo = await echoed((await callRouter(request)).response);
    expect(echo.bodyBytes).toBe(size);
    expect(echo.bodySha256).toBe(expected);
  });

  it("hands a redirect back instead of following it", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.infraHosts[0]!, "/redirect"));
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("https://elsewhere.example/landing");
  });
});

describe("upstream failures", () => {
  it("answers 502 with a JSON error when the upstream is unreachable", async () => {
    const config = await seedContainer({ upstream: deadUrl() });
    const { response, records } = await callRouter(routerRequest(config.infraHosts[0]!, "/echo"));
    expect(response.status).toBe(502);
    const body = (await response.json()) as { error: string; message: string };
    expect(body.error).toBe("upstream_unreachable");
    expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js)/);
    // The access record says why, so a 502 in the logs is not only "upstreamStatus: null".
    expect(records[0]).toMatchObject({ status: 502, upstreamStatus: null, reason: "upstream_unreachable" });
  });

  it("answers 504 when the upstream is slower than UPSTREAM_TIMEOUT_MS", async () => {
    const config = await seedContainer();
    // The test config sets UPSTREAM_TIMEOUT_MS to 1500.
    const { response } = await callRouter(routerRequest(config.infraHosts[0]!, "/slow?ms=4000"));
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ error: "upstream_timeout" });
  });

  it("does not time out an upstream that answers within the limit", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.infraHosts[0]!, "/slow?ms=200"));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("slow");
  });
});
