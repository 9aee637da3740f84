// ipAnonymization `truncate`: examples for each address family, and fast-check properties that the cut address
// never carries a bit the mode does not allow. The oracle is an independent parser: the WHATWG URL parser
// canonicalizes any IPv6 text form (compressed, upper-case, dotted tail) to plain hex groups.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatIpv6, ipv6Hextets, truncateIp } from "../../workers/router/anonymize-ip";

const V4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

function v4Value(ip: string): number {
  return ip.split(".").reduce((value, octet) => value * 256 + Number(octet), 0);
}

/** 128-bit value of any IPv6 text form, through the URL parser (not the code under test). */
function v6Value(ip: string): bigint {
  const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const [head, tail] = canonical.includes("::") ? canonical.split("::") : [canonical, undefined];
  const front = head ? head.split(":") : [];
  const back = tail ? tail.split(":") : [];
  const groups = tail === undefined ? front : [...front, ...new Array(8 - front.length - back.length).fill("0"), ...back];
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

const MASK_128 = (1n << 128n) - 1n;
const prefixMask = (bits: number) => MASK_128 ^ ((1n << BigInt(128 - bits)) - 1n);
const MAPPED_PREFIX = 0xffffn << 32n;
const isMapped = (value: bigint) => value >> 32n === 0xffffn;

describe("truncateIp examples", () => {
  it.each([
    ["203.0.113.77", "203.0.113.0"],
    ["10.0.0.1", "10.0.0.0"],
    ["2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"],
    ["2001:DB8:0:0:1::1", "2001:db8::"],
    ["2a00:1450:4001:82b::200e", "2a00:1450:4001::"],
    ["::1", "::"],
    ["::ffff:198.51.100.23", "198.51.100.0"],
    ["::FFFF:C633:6417", "198.51.100.0"],
    ["0:0:0:0:0:ffff:203.0.113.9", "203.0.113.0"],
    // 6to4: the client's IPv4 address 192.0.2.33 sits in bits 16-47 and keeps only its /24.
    ["2002:c000:221::1", "2002:c000:200::"],
  ])("%s -> %s", (ip, expected) => {
    expect(truncateIp(ip)).toBe(expected);
  });

  it.each([
    "",
    "unknown",
    "256.1.1.1",
    "1.2.3",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "fe80::1%eth0",
    "::ffff:1.2.3.999",
    "12345::",
    "1.2.3.4.5",
  ])("refuses %j", (text) => {
    expect(truncateIp(text)).toBeNull();
  });
});

describe("IPv6 text helpers", () => {
  it("formats RFC 5952 text: lower-case, no leading zeros, the longest zero run compressed", () => {
    expect(formatIpv6([0x2001, 0xdb8, 0, 0, 1, 0, 0, 0])).toBe("2001:db8:0:0:1::");
    expect(formatIpv6([0x2001, 0xdb8, 0, 1, 0, 0, 0, 1])).toBe("2001:db8:0:1::1");
    expect(formatIpv6([1, 2, 3, 4, 5, 6, 7, 8])).toBe("1:2:3:4:5:6:7:8");
    expect(formatIpv6([0, 0, 0, 0, 0, 0, 0, 0])).toBe("::");
  });

  it("parses every form the URL parser accepts to the same value", () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const groups = ipv6Hextets(ip);
        expect(groups).not.toBeNull();
        expect(groups!.reduce((value, g) => (value << 16n) | BigInt(g), 0n)).toBe(v6Value(ip));
      }),
      { numRuns: 500 },
    );
  });
});

describe("truncateIp properties", () => {
  it("IPv4: keeps exactly the /24 and nothing of the host byte", () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        const out = truncateIp(ip)!;
        expect(out).toMatch(V4);
        expect(v4Value(out)).toBe(v4Value(ip) - (v4Value(ip) % 256));
      }),
      { numRuns: 500 },
    );
  });

  it("IPv6 in any text form: reveals no bit outside the input's first 48", () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const input = v6Value(ip);
        const out = truncateIp(ip)!;
        if (isMapped(input)) {
          // An IPv4 client: judged as one (next property).
          expect(out).toMatch(V4);
          return;
        }
        const value = v6Value(out);
        expect(value & ~input & MASK_128, "a bit the input does not have").toBe(0n);
        expect(value & ~prefixMask(48), "a bit past /48").toBe(0n);
      }),
      { numRuns: 1000 },
    );
  });

  it("IPv6 outside 6to4: keeps the /48 exactly, whatever the text form", () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const input = v6Value(ip);
        fc.pre(!isMapped(input) && input >> 112n !== 0x2002n);
        expect(v6Value(truncateIp(ip)!)).toBe(input & prefixMask(48));
        expect(truncateIp(ip.toUpperCase())).toBe(truncateIp(ip));
      }),
      { numRuns: 500 },
    );
  });

  it("6to4: reveals no more than the embedded IPv4 address's /24 (the first 40 bits)", () => {
    const sixToFour = fc
      .tuple(fc.ipV4(), fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 5, maxLength: 5 }))
      .map(([v4, rest]) => {
        const [a, b, c, d] = v4.split(".").map(Number) as [number, number, number, number];
        return formatIpv6([0x2002, (a << 8) | b, (c << 8) | d, ...rest]);
      });
    fc.assert(
      fc.property(sixToFour, (ip) => {
        expect(v6Value(truncateIp(ip)!)).toBe(v6Value(ip) & prefixMask(40));
      }),
    );
  });

  it("IPv4-mapped IPv6, dotted or hex: the same /24 as the plain IPv4 address", () => {
    const mapped = fc.tuple(fc.ipV4(), fc.boolean()).map(([v4, hex]) => {
      if (!hex) return { v4, ip: `::ffff:${v4}` };
      return { v4, ip: formatIpv6([0, 0, 0, 0, 0, 0xffff, v4Value(v4) >>> 16, v4Value(v4) & 0xffff]).toUpperCase() };
    });
    fc.assert(
      fc.property(mapped, ({ v4, ip }) => {
        expect(v6Value(ip) & ~0xffffffffn).toBe(MAPPED_PREFIX);
        expect(truncateIp(ip)).toBe(truncateIp(v4));
      }),
      { numRuns: 500 },
    );
  });

  it("never throws, and anything it returns is an address", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-fA-F:.%]{0,45}$/)), (text) => {
        const out = truncateIp(text);
        if (out !== null) expect(V4.test(out) || ipv6Hextets(out) !== null).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
