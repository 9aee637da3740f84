// Cookie Keeper's Set-Cookie rewriter: configured names get the kept lifetime and the shop's domain, nothing else
// is touched.
import fc from "fast-check";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { EdgeConfigSchema, type EdgeConfigInput } from "../../schemas/edge-config";
import { keeperRule, rewriteSetCookie, rewriteSetCookies, type KeeperRule } from "../../workers/router/cookie-keeper";
import { edgeConfig } from "../support/fixtures";

const config = (overrides: Partial<EdgeConfigInput> = {}) => v.parse(EdgeConfigSchema, edgeConfig(overrides));
const rule = keeperRule(config()) as KeeperRule;
const NOW = Date.UTC(2026, 5, 1);
const DAYS_395 = 395 * 86_400;

describe("keeperRule", () => {
  it("is active when enabled and entitled", () => {
    expect(rule).not.toBeNull();
    expect(rule.maxAgeSeconds).toBe(DAYS_395);
  });

  it("is null when disabled", () => {
    expect(keeperRule(config({ modules: { cookieKeeper: { enabled: false } } }))).toBeNull();
  });

  it("is null without the cookie_restoration entitlement", () => {
    expect(keeperRule(config({ entitlements: ["adblock_detection"] }))).toBeNull();
  });

  it("clamps maxAgeDays to 400", () => {
    const long = config({ modules: { cookieKeeper: { enabled: true, maxAgeDays: 4000 } } });
    expect(keeperRule(long)?.maxAgeSeconds).toBe(400 * 86_400);
  });
});

describe("rewriteSetCookie", () => {
  it("extends a configured cookie and sets the contract's attributes", () => {
    expect(rewriteSetCookie("_ga=GA1.1.123.456; Path=/; Max-Age=604800", rule, "shop1.example", NOW)).toBe(
      `_ga=GA1.1.123.456; Max-Age=${DAYS_395}; Domain=shop1.example; Path=/; Secure; SameSite=Lax`,
    );
  });

  it("adds HttpOnly only for names in httpOnly", () => {
    expect(rewriteSetCookie("FPID=FPID2.2.x; Path=/", rule, "shop1.example", NOW)).toContain("; HttpOnly");
    expect(rewriteSetCookie("_ga=1; Path=/", rule, "shop1.example", NOW)).not.toContain("HttpOnly");
  });

  it("removes an upstream HttpOnly from a name not in httpOnly (the page's gtag must read _ga)", () => {
    expect(rewriteSetCookie("_ga=1; HttpOnly", rule, "shop1.example", NOW)).not.toContain("HttpOnly");
  });

  it("matches a * pattern as a prefix", () => {
    expect(rewriteSetCookie("_ga_ABC123=GS1.1; Max-Age=60", rule, "shop1.example", NOW)).toContain(`Max-Age=${DAYS_395}`);
  });

  it("does not treat a name without * as a prefix", () => {
    expect(rewriteSetCookie("_gax=1; Max-Age=60", rule, "shop1.example", NOW)).toBeNull();
  });

  it("leaves other cookies alone", () => {
    expect(rewriteSetCookie("session=abc; Path=/app; HttpOnly", rule, "shop1.example", NOW)).toBeNull();
  });

  it("replaces the upstream's Domain, Path, Expires and SameSite", () => {
    const out = rewriteSetCookie(
      "_fbp=fb.1.2; Domain=sgtm.internal; Path=/x; Expires=Wed, 01 Jan 2031 00:00:00 GMT; SameSite=None",
      rule,
      "shop1.example",
      NOW,
    );
    expect(out).toBe(`_fbp=fb.1.2; Max-Age=${DAYS_395}; Domain=shop1.example; Path=/; Secure; SameSite=Lax`);
  });

  it("keeps attributes it does not own", () => {
    expect(rewriteSetCookie("_ga=1; Partitioned; Priority=High", rule, "shop1.example", NOW)).toMatch(/; Partitioned; Priority=High$/);
  });

  it("keeps a deletion by Max-Age a deletion", () => {
    expect(rewriteSetCookie("_ga=; Max-Age=0", rule, "shop1.example", NOW)).toBe(
      "_ga=; Max-Age=0; Domain=shop1.example; Path=/; Secure; SameSite=Lax",
    );
  });

  it("keeps a negative Max-Age a deletion", () => {
    expect(rewriteSetCookie("_ga=; Max-Age=-1; Path=/", rule, "shop1.example", NOW)).toContain("; Max-Age=0;");
  });

  it("leaves a cookie whose name only contains a listed pattern alone", () => {
    expect(rewriteSetCookie("sess_ga_x=1; Max-Age=60", rule, "shop1.example", NOW)).toBeNull();
    expect(rewriteSetCookie("x_ga=1; Max-Age=60", rule, "shop1.example", NOW)).toBeNull();
  });

  it("keeps a deletion by past Expires a deletion", () => {
    expect(rewriteSetCookie("_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", rule, "shop1.example", NOW)).toContain("Max-Age=0;");
  });

  it("omits Domain when there is no registrable domain", () => {
    expect(rewriteSetCookie("_ga=1", rule, null, NOW)).toBe(`_ga=1; Max-Age=${DAYS_395}; Path=/; Secure; SameSite=Lax`);
  });

  it("never gives a __Host- cookie a Domain", () => {
    const hostRule = keeperRule(config({ modules: { cookieKeeper: { enabled: true, cookies: ["__Host-id"] } } })) as KeeperRule;
    expect(rewriteSetCookie("__Host-id=1; Path=/; Secure", hostRule, "shop1.example", NOW)).not.toContain("Domain=");
  });

  it("ignores a cookie without a name", () => {
    expect(rewriteSetCookie("=_ga; Max-Age=1", rule, "shop1.example", NOW)).toBeNull();
  });
});

describe("rewriteSetCookies", () => {
  it("rewrites the configured ones among several and keeps order and the rest", () => {
    const result = rewriteSetCookies(["a=1", "_ga=2; Max-Age=1", "b=3; HttpOnly", "FPID=4"], rule, "shop1.example");
    expect(result?.rewrites).toBe(2);
    expect(result?.headers[0]).toBe("a=1");
    expect(result?.headers[1]).toMatch(/^_ga=2; Max-Age=/);
    expect(result?.headers[2]).toBe("b=3; HttpOnly");
    expect(result?.headers[3]).toMatch(/^FPID=4; .*HttpOnly/);
  });

  it("returns null when nothing matched", () => {
    expect(rewriteSetCookies(["a=1", "b=2"], rule, "shop1.example")).toBeNull();
  });
});

describe("rewriter properties", () => {
  const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
  const value = fc.stringMatching(/^[A-Za-z0-9._-]{0,20}$/);
  const attribute = fc.constantFrom("Path=/", "Max-Age=60", "Max-Age=0", "HttpOnly", "Secure", "SameSite=None", "Domain=x.example", "Expires=Wed, 01 Jan 2031 00:00:00 GMT", "Partitioned");
  const header = fc.tuple(token, value, fc.array(attribute, { maxLength: 4 })).map(([n, val, attrs]) => [`${n}=${val}`, ...attrs].join("; "));

  it("never throws on arbitrary input", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (input) => {
        rewriteSetCookie(input, rule, "shop1.example", NOW);
      }),
      { numRuns: 2000 },
    );
  });

  it("never drops or changes an unrelated cookie", () => {
    const unrelated = header.filter((h) => !/^(_ga|_ga_.*|_fbp|FPID)=/.test(h));
    fc.assert(
      fc.property(fc.array(fc.oneof(header, unrelated), { maxLength: 6 }), unrelated, (mixed, mine) => {
        const list = [...mixed, mine];
        const result = rewriteSetCookies(list, rule, "shop1.example");
        const out = result?.headers ?? list;
        expect(out.length).toBe(list.length);
        expect(out[out.length - 1]).toBe(mine);
      }),
      { numRuns: 1000 },
    );
  });

  it("keeps name and value of every rewritten cookie", () => {
    const kept = fc.tuple(fc.constantFrom("_ga", "_ga_X1", "_fbp", "FPID"), value, fc.array(attribute, { maxLength: 4 }));
    fc.assert(
      fc.property(kept, ([name, val, attrs]) => {
        const out = rewriteSetCookie([`${name}=${val}`, ...attrs].join("; "), rule, "shop1.example", NOW);
        expect(out?.startsWith(`${name}=${val}; Max-Age=`)).toBe(true);
        expect(out).toContain("; Domain=shop1.example; Path=/; Secure; SameSite=Lax");
      }),
    );
  });
});
