// Two weeks of plausible access and detection records for one container (a daily rhythm, a second week busier
// than the first, an incident with server errors, bots of no kind), generated from a fixed seed so screenshots
// are comparable run to run. The dashboard tests send them through the real LOG_QUEUE and log consumer.
import { seededRandom } from "../../bench/lib/seeded-random.mjs";

const HOUR = 3600_000;
const pick = (random, weighted) => {
  const total = weighted.reduce((sum, [, w]) => sum + w, 0);
  let r = random() * total;
  for (const [value, w] of weighted) {
    r -= w;
    if (r < 0) return value;
  }
  return weighted.at(-1)[0];
};

const HOSTS = [
  ["ss.demo-shop.example", 6],
  ["ss.demo-shop.example.de", 3],
  ["www.demo-shop.example", 1],
];
const COUNTRIES = [
  ["DE", 40],
  ["AT", 12],
  ["CH", 9],
  ["NL", 7],
  ["FR", 6],
  ["US", 5],
  ["GB", 4],
  [null, 2],
];
const PATHS = [
  [{ path: "/g/collect", pathClass: "proxy", method: "POST" }, 55],
  [{ path: "/gtm.js", pathClass: "proxy", method: "GET" }, 18],
  [{ path: "/l/lt_demo_shop.js", pathClass: "loader", method: "GET" }, 12],
  [{ path: "/boot", pathClass: "boot", method: "POST" }, 10],
  [{ path: "/favicon.ico", pathClass: "passthrough", method: "GET" }, 3],
  [{ path: "/wp-login.php", pathClass: "passthrough", method: "GET" }, 2],
];

/**
 * Records for `containerId` over the `days` days before `now` (and as many before those, for the comparison).
 * `perHour` scales the volume. Returns { records, window: { from, to } }.
 */
export function trafficHistory({ containerId = "demo-shop", now = Date.now(), days = 7, perHour = 14, seed = 7 } = {}) {
  const random = seededRandom(seed);
  const records = [];
  const start = now - 2 * days * 24 * HOUR;
  const incident = now - 2 * 24 * HOUR - 5 * HOUR;
  let n = 0;
  for (let hour = start; hour < now; hour += HOUR) {
    const local = new Date(hour).getUTCHours() + 1;
    const daily = 0.25 + Math.max(0, Math.sin(((local - 6) / 24) * Math.PI * 2)) * 1.2 + (local >= 18 && local <= 22 ? 0.5 : 0);
    const growth = hour >= now - days * 24 * HOUR ? 1.18 : 1;
    const count = Math.round(perHour * daily * growth * (0.8 + random() * 0.4));
    for (let i = 0; i < count; i += 1) {
      const ts = Math.min(now - 1000, Math.floor(hour + random() * HOUR));
      const target = pick(random, PATHS);
      const inIncident = ts >= incident && ts < incident + 2 * HOUR;
      let status =
        target.path === "/g/collect"
          ? 204
          : target.path === "/boot"
            ? 200
            : target.path === "/wp-login.php"
              ? 404
              : random() < 0.2
                ? 304
                : 200;
      if (target.path === "/favicon.ico") status = 404;
      if (target.pathClass === "proxy" && (inIncident ? random() < 0.45 : random() < 0.004)) status = random() < 0.7 ? 502 : 504;
      n += 1;
      records.push({
        kind: "access",
        ts,
        requestId: `hist-${seed}-${n}`,
        containerId,
        host: pick(random, HOSTS),
        method: target.method,
        pathClass: target.pathClass,
        path: target.path,
        status,
        upstreamStatus: target.pathClass === "proxy" || target.pathClass === "passthrough" ? (status >= 502 ? null : status) : null,
        durationMs: Math.round(18 + 40 * -Math.log(1 - random() * 0.98) + (inIncident ? 600 : 0)),
        country: pick(random, COUNTRIES),
        cookieRewrites: target.path === "/g/collect" && status < 500 ? (random() < 0.6 ? 2 : 0) : 0,
      });
      if (target.path === "/boot" && random() < 0.7) {
        const safari = random() < 0.27;
        records.push({
          kind: "detection",
          ts,
          containerId,
          sessionId: `hist_${seed}_${n}`,
          host: "ss.demo-shop.example",
          adblock: random() < 0.31,
          itp: safari,
          etp: !safari && random() < 0.07,
          mode: pick(random, [
            ["subdomain", 70],
            ["same-origin", 26],
            ["cross-site", 3],
            ["unknown", 1],
          ]),
          country: pick(random, COUNTRIES),
        });
      }
    }
  }
  return { records, window: { from: now - days * 24 * HOUR, to: now } };
}
