// Whom the per-client bounds count a request for (workers/shared/client-limit.ts).
import { describe, expect, it } from "vitest";
import { clientKey } from "../../workers/shared/client-limit";

const from = (ip?: string) =>
  clientKey(new Request("https://ss.shop.example/boot", ip === undefined ? {} : { headers: { "CF-Connecting-IP": ip } }));

describe("clientKey", () => {
  it("an IPv4 client by its address", () => {
    expect(from("203.0.113.77")).toBe("203.0.113.77");
  });

  it("an IPv6 client by its /64, whatever the text form", () => {
    for (const ip of ["2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:DB8:85A3:8D3::1", "2001:0db8:85a3:08d3:ffff::"]) {
      expect(from(ip), ip).toBe("2001:db8:85a3:8d3::/64");
    }
  });

  it("counts nothing without CF-Connecting-IP or from loopback (tests, the local run)", () => {
    for (const ip of [undefined, "127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) expect(from(ip), String(ip)).toBeNull();
  });
});
