// The `p` decoder: only a plain absolute path (+ query) may come out, whatever goes in.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeProxyTarget, isSafeTarget } from "../../workers/router/proxy-target";
import { encodeTarget } from "../support/router-harness";

const UPSTREAM = "https://sgtm.shop1.example";

describe("decodeProxyTarget", () => {
  it("decodes base64url of a path with query", () => {
    expect(decodeProxyTarget(encodeTarget("/g/collect?v=2&tid=G-ABC&en=page_view"))).toBe("/g/collect?v=2&tid=G-ABC&en=page_view");
  });

  it("accepts padded base64url", () => {
    const unpadded = encodeTarget("/gtm.js?id=GTM-A");
    const padded = unpadded.padEnd(Math.ceil(unpadded.length / 4) * 4, "=");
    expect(padded).not.toBe(unpadded);
    expect(decodeProxyTarget(padded)).toBe("/gtm.js?id=GTM-A");
  });

  it("keeps non-ASCII UTF-8 in the path", () => {
    expect(decodeProxyTarget(encodeTarget("/päth/ĀĀ?q=ü"))).toBe("/päth/ĀĀ?q=ü");
  });

  it("rejects characters outside the base64url alphabet", () => {
    expect(decodeProxyTarget("L2cvY29s+GVjdA")).toBeNull();
  });

  it("rejects invalid UTF-8", () => {
    expect(decodeProxyTarget(btoa("/\xff\xfe").replace(/=+$/, ""))).toBeNull();
  });

  it.each([
    ["an absolute URL", "https://evil.example/x"],
    ["a scheme-relative URL", "//evil.example/x"],
    ["a relative path", "g/collect"],
    ["an @-trick without leading slash", "@evil.example/x"],
    ["a backslash", "/\\evil.example"],
    ["a backslash after the first slash", "/a\\..\\b"],
    ["a dot-dot segment", "/a/../b"],
    ["a trailing dot-dot segment", "/a/.."],
    ["a dot segment", "/./g/collect"],
    ["an encoded dot-dot", "/a/%2e%2e/b"],
    ["a mixed-case encoded dot-dot", "/a/.%2E/b"],
    ["a double-encoded dot-dot", "/a/%252e%252e/b"],
    ["an encoded slash before a dot-dot", "/a%2f..%2fb"],
    ["an encoded backslash", "/a%5cb"],
    ["an encoded leading slash", "/%2fevil.example/x"],
    ["CR/LF", "/g/collect\r\nHost: evil.example"],
    ["encoded CR/LF in the path", "/g%0d%0aHost:%20evil"],
    ["a NUL byte", "/g\u0000/collect"],
    ["a tab", "/g/\tcollect"],
    ["a space", "/g collect"],
    ["a fragment", "/g/collect#x"],
    ["the empty string", ""],
    ["a leading BOM", "\ufeff/g/collect"],
  ])("rejects %s", (_, target) => {
    expect(decodeProxyTarget(encodeTarget(target))).toBeNull();
  });

  it("allows dots that are not whole segments", () => {
    expect(decodeProxyTarget(encodeTarget("/a/..b/c.../.well-known/x?y=../z"))).toBe("/a/..b/c.../.well-known/x?y=../z");
  });

  it("allows encoded CR/LF in the query (event parameters may contain them)", () => {
    expect(decodeProxyTarget(encodeTarget("/g/collect?dt=a%0D%0Ab"))).toBe("/g/collect?dt=a%0D%0Ab");
  });

  it("decodes percent-escapes nested up to 4 levels and refuses deeper nesting", () => {
    // %41 is "A"; each level escapes the % of the one inside it.
    expect(decodeProxyTarget(encodeTarget("/a%25252541b"))).toBe("/a%25252541b");
    expect(decodeProxyTarget(encodeTarget("/a%2525252541b"))).toBeNull();
  });

  it("rejects an empty parameter", () => {
    expect(decodeProxyTarget("")).toBeNull();
  });
});

describe("decodeProxyTarget properties", () => {
  it("never throws and never yields anything but a path on the upstream origin", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 200 }).map(encodeTarget)), (input) => {
        const target = decodeProxyTarget(input);
        if (target === null) return;
        expect(target.startsWith("/") && !target.startsWith("//")).toBe(true);
        expect(/[\u0000-\u001f\u007f\\]/.test(target)).toBe(false);
        const url = new URL(UPSTREAM + target);
        expect(url.origin).toBe(UPSTREAM);
        // What the URL parser fetches is what was decoded: no dot segment got resolved away.
        expect(url.pathname.split("/").length).toBe(target.split("?")[0]!.split("/").length);
      }),
      { numRuns: 2000 },
    );
  });

  it("round-trips every path built from safe segments", () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,15}$/).filter((s) => s !== "." && s !== "..");
    const query = fc.option(fc.stringMatching(/^[A-Za-z0-9=&%._~-]{0,40}$/), { nil: undefined });
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 6 }), query, (segments, q) => {
        const target = `/${segments.join("/")}${q === undefined ? "" : `?${q}`}`;
        expect(decodeProxyTarget(encodeTarget(target))).toBe(target);
      }),
      { numRuns: 1000 },
    );
  });

  it("rejects every path that contains a dot-dot segment, however it is percent-encoded", () => {
    const dot = fc.constantFrom(".", "%2e", "%2E", "%252e");
    const safe = fc.stringMatching(/^[a-z0-9]{1,8}$/);
    fc.assert(
      fc.property(fc.array(safe, { maxLength: 3 }), dot, dot, fc.array(safe, { maxLength: 3 }), (before, a, b, after) => {
        const target = `/${[...before, a + b, ...after].join("/")}`;
        expect(isSafeTarget(target)).toBe(false);
      }),
    );
  });
});
