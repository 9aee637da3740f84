// Cookie Keeper's Domain against a real RFC 6265 cookie jar that applies the Public Suffix List (tough-cookie), so
// the claim is "a browser-like client keeps the cookie and sends it to the shop's www host", not "the header
// contains some string". Each container is accepted the way the control side accepts it (AcceptedEdgeConfigSchema,
// which derives the cookie domains) and written to the real KV maps; the router then proxies a real upstream whose
// Set-Cookie headers it rewrites.
import { CookieJar } from "tough-cookie";
import { describe, expect, it } from "vitest";
import { callRouter, encodeTarget, routerRequest, seedContainer, uniqueId } from "../support/router-harness";

const upstreamCookies = ["_ga=GA1.1.42.1700000000; Path=/; Max-Age=60", "FPID=FPID2.2.abc.1700000000; Path=/; Max-Age=60"];
const setCookiesPath = (cookies: string[]) => `/set-cookies?c=${encodeTarget(JSON.stringify(cookies))}`;

/** The router's Set-Cookie headers for a request on `publicHost` (a host, or host/prefix in same-origin mode). */
async function keptCookies(publicHost: string): Promise<string[]> {
  await seedContainer({ publicHosts: [publicHost] });
  const [host, prefix] = publicHost.split("/");
  const path = `${prefix ? `/${prefix}` : ""}${setCookiesPath(upstreamCookies)}`;
  const { response } = await callRouter(routerRequest(host!, path));
  expect(response.status).toBe(204);
  return response.headers.getSetCookie();
}

/** Feeds the headers to a fresh jar as the response of https://<host>/ and returns what it sends to `to`. */
async function jarSends(setCookies: string[], host: string, to: string): Promise<string> {
  const jar = new CookieJar();
  // ignoreError stays false: a cookie the jar refuses (e.g. Domain is a public suffix) fails the test here.
  for (const header of setCookies) await jar.setCookie(header, `https://${host}/`);
  return jar.getCookieString(to);
}

describe("the jar applies the Public Suffix List", () => {
  it("refuses a Domain that is a public suffix, which the edge must therefore never send", async () => {
    const jar = new CookieJar();
    await expect(jar.setCookie("_ga=1; Domain=com.bd; Path=/", "https://ss.shop.com.bd/")).rejects.toThrow(/public suffix/i);
  });
});

describe("Cookie Keeper's cookies are kept and reach www.<site>", () => {
  // [what the case shows, public host for a fresh label, the site (registrable domain) its cookies must be scoped to]
  const cases: [string, (id: string) => string, (id: string) => string][] = [
    ["the two-label ICANN suffix co.uk", (id) => `ss.${id}.co.uk`, (id) => `${id}.co.uk`],
    ["com.bd, which the old embedded list lacked", (id) => `ss.${id}.com.bd`, (id) => `${id}.com.bd`],
    ["the city suffix tokyo.jp", (id) => `ss.${id}.tokyo.jp`, (id) => `${id}.tokyo.jp`],
    ["the three-label suffix k12.ca.us", (id) => `ss.${id}.k12.ca.us`, (id) => `${id}.k12.ca.us`],
    ["the private-section suffix pages.dev", (id) => `ss.${id}.pages.dev`, (id) => `${id}.pages.dev`],
    ["the wildcard rule *.ck", (id) => `ss.${id}.foo.ck`, (id) => `${id}.foo.ck`],
    ["the exception rule !www.ck", () => "ss.www.ck", () => "www.ck"],
    ["the wildcard rule *.kawasaki.jp", (id) => `ss.${id}.foo.kawasaki.jp`, (id) => `${id}.foo.kawasaki.jp`],
    ["the exception rule !city.kawasaki.jp", () => "ss.city.kawasaki.jp", () => "city.kawasaki.jp"],
    ["same-origin mode under co.uk", (id) => `shop.${id}.co.uk/metrics`, (id) => `${id}.co.uk`],
  ];

  it.each(cases)("%s", async (_what, publicHostFor, siteFor) => {
    const id = uniqueId("psl");
    const publicHost = publicHostFor(id);
    const site = siteFor(id);
    const setCookies = await keptCookies(publicHost);
    // FPID and _ga, and the edge's identity proof beside the upstream's FPID (loader/identity-proof.ts).
    expect(setCookies.map((header) => header.split("=")[0]).sort()).toEqual(["FPID", "_ga", "_qxi"]);
    for (const header of setCookies)
      expect(header).toMatch(new RegExp(`; Domain=${site.replaceAll(".", "\\.")}; Path=/; Secure;( HttpOnly;)? SameSite=Lax`));

    const sent = await jarSends(setCookies, publicHost.split("/")[0]!, `https://www.${site}/`);
    expect(sent).toContain("_ga=GA1.1.42.1700000000");
    expect(sent).toContain("FPID=FPID2.2.abc.1700000000");
  });
});
