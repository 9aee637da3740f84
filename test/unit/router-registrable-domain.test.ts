// eTLD+1 for cookie domains, with the embedded multi-part suffixes.
import { describe, expect, it } from "vitest";
import { registrableDomain } from "../../workers/shared/registrable-domain";

describe("registrableDomain", () => {
  it.each([
    ["ss.shop1.example", "shop1.example"],
    ["shop1.example", "shop1.example"],
    ["a.b.c.shop1.de", "shop1.de"],
    ["ss.shop1.co.uk", "shop1.co.uk"],
    ["shop1.co.uk", "shop1.co.uk"],
    ["ss.shop1.com.au", "shop1.com.au"],
    ["x.y.shop1.co.jp", "shop1.co.jp"],
    ["ss.shop1.com.br", "shop1.com.br"],
    ["tenant.github.io", "tenant.github.io"],
    ["co.uk", "co.uk"],
    ["ss.shop1.example.", "shop1.example"],
    ["localhost", "localhost"],
    ["ss.demo-shop.localhost", "demo-shop.localhost"],
    ["demo.localhost", "demo.localhost"],
    ["127.0.0.1", "127.0.0.1"],
    ["[::1]", "[::1]"],
    ["2001:db8::1", "2001:db8::1"],
  ])("%s -> %s", (host, expected) => {
    expect(registrableDomain(host)).toBe(expected);
  });
});
