// Cold start of the Worker that serves live traffic, on workerd: `npm run bench:cold-start -- [checkout ...]`.
// For each checkout (default: this one) it bundles that Worker as deployed (`wrangler deploy --dry-run --minify`),
// then starts it on a fresh workerd STARTS times, alternating between checkouts so machine drift hits all alike, and
// reads two figures per start:
//   ready          new Miniflare() until it answers (workerd boot + compiling and evaluating the bundle);
//   first request  the first request's latency (lazily compiled functions on the way), a path that needs no I/O:
//                  `/_edge/x` on a customer host, which every version answers 404 at the edge.
// Checkouts with wrangler.control.jsonc are the split layout: the edge Worker runs with a minimal stand-in named
// qaxal-control for its ContainerState and service bindings, so only the edge bundle's own cost is read.
// A checkout without it is the single-Worker layout, run as its wrangler.jsonc declares.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { ROOT } from "../scripts/platform.mjs";

const STARTS = 9;
const CONTROL_STAND_IN = `import { DurableObject } from "cloudflare:workers";
export class ContainerState extends DurableObject {}
export default { fetch: () => new Response(null, { status: 404 }) };`;

function bundle(checkout) {
  const split = existsSync(join(checkout, "wrangler.control.jsonc"));
  const outdir = join(ROOT, "dist/bench-cold", Buffer.from(checkout).toString("base64url"));
  const args = [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--minify", "--outdir", outdir];
  if (split) args.push("--env=");
  const out = execFileSync(process.execPath, args, { cwd: checkout, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" } });
  const size = /Total Upload: (.*)/.exec(out)?.[1] ?? "?";
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(checkout, "wrangler.jsonc"), split ? "" : undefined);
  const main = split ? "edge.js" : "index.js";
  const options = { ...workerOptions, modules: [{ type: "ESModule", path: join(outdir, main) }], modulesRoot: outdir };
  if (!split) {
    // The single-Worker bundle carries a guarded dynamic import (supabase-js' optional OpenTelemetry) that miniflare's
    // module walker refuses; listing the module, as above, avoids the walk. Its Durable Object class is its own.
    options.durableObjects = { CONTAINER_STATE: { className: "ContainerState", useSQLite: true } };
  }
  return { checkout, split, size, options };
}

async function start(target) {
  const workers = [{ ...target.options, name: "edge" }];
  if (target.split)
    workers.push({
      name: "qaxal-control",
      modules: true,
      script: CONTROL_STAND_IN,
      compatibilityDate: "2026-04-01",
      durableObjects: { CS: { className: "ContainerState", useSQLite: true } },
    });
  const t0 = performance.now();
  const mf = new Miniflare({ workers, port: 0 });
  const url = await mf.ready;
  const ready = performance.now() - t0;
  const t1 = performance.now();
  const res = await fetch(new URL("/_edge/x", url), { headers: { Host: "stranger.example" } });
  await res.arrayBuffer();
  const first = performance.now() - t1;
  await mf.dispose();
  if (res.status !== 404) throw new Error(`${target.checkout}: expected 404, got ${res.status}`);
  return { ready, first };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const checkouts = process.argv.slice(2).map((p) => resolve(p));
const targets = (checkouts.length ? checkouts : [ROOT]).map(bundle);
const runs = targets.map((target) => ({ target, starts: /** @type {{ ready: number, first: number }[]} */ ([]) }));
for (let i = 0; i < STARTS; i++) for (const { target, starts } of runs) starts.push(await start(target));
const result = runs.map(({ target: t, starts }) => ({
  checkout: t.checkout,
  layout: t.split ? "edge Worker (split)" : "single Worker",
  bundle: t.size,
  readyMsMedian: Number(median(starts.map((r) => r.ready)).toFixed(1)),
  firstRequestMsMedian: Number(median(starts.map((r) => r.first)).toFixed(2)),
  starts: STARTS,
}));
mkdirSync(join(ROOT, "bench/results"), { recursive: true });
writeFileSync(join(ROOT, "bench/results/cold-start.json"), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
