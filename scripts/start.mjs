// `npm start`: the platform locally, with demo containers, until Ctrl-C.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { DEV_ADMIN_TOKEN, ROOT, startPlatform } from "./platform.mjs";

const port = Number(process.env.PORT ?? 8787);
// First run on a fresh machine: install the pinned npm packages.
execFileSync("bash", [join(ROOT, "scripts/setup.sh")], { stdio: "inherit" });
// `npm start -- --https`: https with wrangler's self-signed certificate (WebKit keeps Secure cookies only on https).
const https = process.argv.includes("--https");
const platform = await startPlatform({ port, originPort: Number(process.env.SGTM_PORT ?? 8790), https });
const base = `${https ? "https" : "http"}://localhost:${port}`;
// wrangler's certificate is self-signed: curl needs -k.
const curl = https ? "curl -k" : "curl";
console.log(`
Qaxal Edge is running (state persists in .data/; Ctrl-C stops it)
  Worker                 ${base}
  stand-in sGTM origin   ${platform.originUrl}
  demo containers        ${platform.demo.lines.join(", ")}

Try:
  health                 ${curl} ${base}/_edge/health
  status                 ${curl} -H 'Authorization: Bearer ${DEV_ADMIN_TOKEN}' ${base}/_edge/admin/containers/demo-shop/status
  proxied gtm.js         ${curl} -i '${base}/gtm.js?id=GTM-DEMO01'
  obfuscated proxy path  ${curl} -i "${base}/k/?p=$(printf '/g/collect?v=2' | base64 | tr '+/' '-_' | tr -d '=')"
  loader snippet         ${curl} -i ${base}/l/lt_demo_shop.js
  demo shop page         ${base.replace("localhost", "shop.localhost")}/metrics/demo (same-origin mode)
  dashboard              ${base}/_edge/admin/dashboard#token=${DEV_ADMIN_TOKEN}&container=demo-shop
  report in the terminal npm run report
`);
const shutdown = async () => {
  await platform.stop();
  process.exit(0);
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
