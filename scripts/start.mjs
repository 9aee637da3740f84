// `npm start`: the platform locally, with demo containers, until Ctrl-C. `npm start -- --help` lists the options.
import { execFileSync } from "node:child_process";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { loadDemoFleet } from "./demo-fleet.mjs";
import { cronCommand } from "./local-crons.mjs";
import { claimDataDir, DATA_DIR } from "./local-url.mjs";
import { assertPortFree, DEV_ADMIN_TOKEN, LocalRunError, ROOT, startPlatform } from "./platform.mjs";

const HELP = `npm start [-- --https]: both Workers, the stand-in sGTM origin and the demo containers, until Ctrl-C.

Options:
  --https        serve over https with wrangler's self-signed certificate (WebKit keeps Secure cookies only there)
  --demo-containers N
                 also load N generated containers (fleet-001…) with a little traffic; every 25th one fails on purpose
  --help         this text

Environment:
  PORT           the Workers' port (default 8787)
  SGTM_PORT      the stand-in sGTM origin's port (default 8790)
  EDGE_DATA_DIR  the state directory (default .data); one local run per state directory
  CRON_SPEEDUP   run the control Worker's crons this many times as often (default 1: every minute, every 5 minutes)

Documentation: docs/development.md`;

/**
 * Prints one line and exits non-zero: the problems here are the operator's to fix, and a stack would hide the fix.
 * @param {string} message
 * @returns {never}
 */
function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      https: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
      "demo-containers": { type: "string", default: "0" },
    },
  }));
} catch (error) {
  fail(`${error instanceof Error ? error.message : String(error)} (npm start -- --help lists the options)`);
}
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const demoContainers = Number(values["demo-containers"]);
if (!Number.isInteger(demoContainers) || demoContainers < 0 || demoContainers > 999)
  fail(`--demo-containers must be a whole number from 0 to 999, not "${values["demo-containers"]}"`);
const port = Number(process.env.PORT ?? 8787);
const originPort = Number(process.env.SGTM_PORT ?? 8790);
const cronSpeedup = Number(process.env.CRON_SPEEDUP || 1);
if (!(cronSpeedup >= 1)) fail(`CRON_SPEEDUP must be a number of at least 1, not "${process.env.CRON_SPEEDUP}"`);
// `npm start -- --https`: https with wrangler's self-signed certificate (WebKit keeps Secure cookies only on https).
const https = values.https;
// Before anything starts: a second run on the same state would re-point the first run's demo containers.
let claim;
try {
  claim = claimDataDir({ port, originPort, scheme: https ? "https" : "http" });
  await assertPortFree(port, "PORT");
  await assertPortFree(originPort, "SGTM_PORT");
} catch (error) {
  claim?.release();
  fail(error instanceof Error ? error.message : String(error));
}
// First run on a fresh machine: install the pinned npm packages.
execFileSync("bash", [join(ROOT, "scripts/setup.sh")], { stdio: "inherit" });
let platform;
try {
  platform = await startPlatform({ port, originPort, https, crons: true, cronSpeedup, cloudflareStandIn: true });
} catch (error) {
  claim.release();
  fail(error instanceof LocalRunError ? error.message : String(error instanceof Error ? error.message : error));
}
let fleetLine = "";
if (demoContainers > 0) {
  try {
    const failing = await loadDemoFleet(platform.workerUrl, platform.originUrl, demoContainers);
    fleetLine = `\n  fleet                  ${demoContainers} containers fleet-001…, failing on purpose: ${failing.join(", ") || "none"}`;
  } catch (error) {
    claim.release();
    await platform.stop();
    fail(`--demo-containers: ${error instanceof Error ? error.message : String(error)}`);
  }
}
const base = `${https ? "https" : "http"}://localhost:${port}`;
const stateDir = relative(ROOT, DATA_DIR).startsWith("..") ? DATA_DIR : relative(ROOT, DATA_DIR);
// wrangler's certificate is self-signed: curl needs -k.
const curl = https ? "curl -k" : "curl";
// `npm run report` / `npm run replay` in another terminal find this port even without PORT.
claim.ready(platform.workerUrl);
console.log(`
Qaxal Edge is running (state persists in ${stateDir}/; Ctrl-C stops it)
  Worker                 ${base}
  stand-in sGTM origin   ${platform.originUrl}
  demo containers        ${platform.demo.lines.join(", ")}${fleetLine}
  Cloudflare API stand-in ${platform.cloudflareUrl} (custom domains: docs/custom-domains.md)
  scheduled work         ${platform.crons.map(({ cron, periodMs }) => `"${cron}" every ${periodMs / cronSpeedup / 1000} s`).join(", ")} (docs/development.md)

Try:
  health                 ${curl} ${base}/_edge/health
  status                 ${curl} -H 'Authorization: Bearer ${DEV_ADMIN_TOKEN}' ${base}/_edge/admin/containers/demo-shop/status
  proxied gtm.js         ${curl} -i '${base}/gtm.js?id=GTM-DEMO01'
  obfuscated proxy path  ${curl} -i "${base}/k/?p=$(printf '/g/collect?v=2' | base64 | tr '+/' '-_' | tr -d '=')"
  loader snippet         ${curl} -i ${base}/l/lt_demo_shop.js
  demo shop page         ${base.replace("localhost", "shop.localhost")}/metrics/demo (same-origin mode)
  dashboard              ${base}/_edge/admin/dashboard#token=${DEV_ADMIN_TOKEN}&container=demo-shop
  fleet view             ${base}/_edge/admin/dashboard#token=${DEV_ADMIN_TOKEN}&view=containers
  report in the terminal npm run report
  custom domain          ${curl} -X PUT -H 'Authorization: Bearer ${DEV_ADMIN_TOKEN}' ${base}/_edge/admin/containers/demo-basic/hostnames/ss.demo-basic.localhost
${platform.crons.map(({ cron }) => `  cron ${cron.padEnd(17)} ${cronCommand(base, platform.edgeAuth, cron, curl)}`).join("\n")}
`);
const shutdown = async () => {
  claim.release();
  await platform.stop();
  process.exit(0);
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
