// ipAnonymization `truncate`: the client IP the upstream sees is cut to its network, IPv4 to /24 and IPv6 to /48
// (the prefixes Google Analytics' own IP anonymization and most geo databases work with: country and usually
// region survive, the household does not). Anything that is not an IP address gives null: the caller then sends
// no address rather than a string it cannot vouch for.

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

/** The four octets of a dotted-quad IPv4 address, or null. */
function ipv4Octets(text: string): number[] | null {
  const match = IPV4.exec(text);
  if (match === null) return null;
  const octets = [Number(match[1]), Number(match[2]), Number(match[3]), Number(match[4])];
  return octets.every((octet) => octet <= 255) ? octets : null;
}

function hextets(groups: string[]): number[] | null {
  const out: number[] = [];
  for (const group of groups) {
    if (!HEXTET.test(group)) return null;
    out.push(parseInt(group, 16));
  }
  return out;
}

/**
 * The eight 16-bit groups of an IPv6 address in any RFC 4291 text form (compressed, upper-case, a dotted IPv4
 * tail), or null. A zone index (`%eth0`) is refused: it never names a remote client.
 */
export function ipv6Hextets(text: string): number[] | null {
  const double = text.indexOf("::");
  if (double !== -1 && text.indexOf("::", double + 1) !== -1) return null;
  const head = double === -1 ? text : text.slice(0, double);
  const tail = double === -1 ? "" : text.slice(double + 2);
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === "" ? [] : tail.split(":");

  // A dotted IPv4 address may stand for the last two groups.
  const last = double === -1 ? headGroups : tailGroups;
  let embedded: number[] = [];
  if (last.length > 0 && last[last.length - 1]!.includes(".")) {
    const octets = ipv4Octets(last.pop()!);
    if (octets === null) return null;
    embedded = [(octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!];
  }
  const front = hextets(headGroups);
  const back = hextets(tailGroups);
  if (front === null || back === null) return null;
  const explicit = front.length + back.length + embedded.length;
  if (double === -1 ? explicit !== 8 : explicit > 7) return null;
  return [...front, ...new Array<number>(8 - explicit).fill(0), ...back, ...embedded];
}

/** RFC 5952 text: lower-case, no leading zeros, the longest run of two or more zero groups as `::`. */
export function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < groups.length && groups[end] === 0) end++;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }
  const hex = (from: number, to: number) =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(":");
  return bestStart === -1 ? hex(0, 8) : `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/** The client IP cut to /24 (IPv4) or /48 (IPv6); null when `ip` is not an IP address. */
export function truncateIp(ip: string): string | null {
  const text = ip.trim();
  const v4 = ipv4Octets(text);
  if (v4 !== null) return `${v4[0]}.${v4[1]}.${v4[2]}.0`;
  const g = ipv6Hextets(text);
  if (g === null) return null;
  // ::ffff:a.b.c.d is an IPv4 client seen through an IPv6 socket: its /48 would be all zeros (nothing useful),
  // its /24 is what an IPv4 client gets.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.0`;
  }
  // 6to4 (2002::/16) carries the client's whole IPv4 address in bits 16-47, inside the /48: keep only its /24.
  const third = g[0] === 0x2002 ? g[2]! & 0xff00 : g[2]!;
  return formatIpv6([g[0]!, g[1]!, third, 0, 0, 0, 0, 0]);
}
