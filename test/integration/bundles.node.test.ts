// Both Workers bundle cleanly for every environment, and the edge bundle (what every tracking hit loads) stays small
// and free of control-plane code. Built by wrangler itself (`wrangler deploy --dry-run`, offline).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/platform.mjs";

const run = promisify(execFile);
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const EDGE_GZIP_BUDGET_KIB = 64;
const CONTROL_PLANE_MODULES = [
  /^workers\/admin\//,
  /^workers\/sync-consumer\//,
  /^workers\/log-consumer\//,
  /^workers\/reports\//,
  /^durable\/container-state\.ts$/,
  /@supabase\//,
  // The Public Suffix List is applied when a config is accepted; the edge reads the derived cookie domains.
  /^schemas\/accepted-edge-config\.ts$/,
  /node_modules\/tldts/,
];

const outRoot = mkdtempSync(join(tmpdir(), "qaxal-bundles-"));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

/** `wrangler deploy --dry-run --minify` of one Worker and environment: wrangler's output and the bundle's inputs. */
async function dryRun(config: string, env: string) {
  const outdir = join(outRoot, `${config}-${env || "local"}`);
  const { stdout, stderr } = await run(
    process.execPath,
    [WRANGLER, "deploy", "--dry-run", "--minify", `--env=${env}`, "-c", config, "--outdir", outdir, "--metafile"],
    { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false", FORCE_COLOR: "0" } },
  );
  const meta = JSON.parse(readFileSync(join(outdir, "bundle-meta.json"), "utf8")) as { inputs: Record<string, unknown> };
  const gzip = /gzip: ([\d.]+) KiB/.exec(stdout);
  return { output: stdout + stderr, inputs: Object.keys(meta.inputs), gzipKiB: gzip ? Number(gzip[1]) : Number.NaN };
}

describe("wrangler deploy --dry-run", () => {
  for (const config of ["wrangler.jsonc", "wrangler.control.jsonc"]) {
    for (const env of ["", "staging", "production"]) {
      it(`${config} ${env || "(local)"} bundles without a warning or an error`, async () => {
        const { output } = await dryRun(config, env);
        expect(output).toContain("--dry-run: exiting now.");
        expect(output).not.toMatch(/\[WARNING\]|\[ERROR\]|✘/);
      });
    }
  }

  it(`keeps the edge bundle within ${EDGE_GZIP_BUDGET_KIB} KiB gzipped`, async () => {
    const { gzipKiB } = await dryRun("wrangler.jsonc", "production");
    expect(gzipKiB).toBeGreaterThan(0);
    expect(gzipKiB).toBeLessThanOrEqual(EDGE_GZIP_BUDGET_KIB);
  });

  it("keeps every control-plane module out of the edge bundle", async () => {
    const { inputs } = await dryRun("wrangler.jsonc", "production");
    expect(inputs).toContain("workers/router/traffic.ts");
    expect(inputs.filter((input) => CONTROL_PLANE_MODULES.some((pattern) => pattern.test(input)))).toEqual([]);
  });

  it("keeps supabase-js out of the control Worker too (PostgREST over fetch)", async () => {
    const { inputs } = await dryRun("wrangler.control.jsonc", "production");
    expect(inputs).toContain("workers/admin/api.ts");
    expect(inputs.filter((input) => input.includes("@supabase/"))).toEqual([]);
  });
});
