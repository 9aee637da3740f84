// The Supabase project folder (supabase/, laid out as `supabase init` makes it) against a real PostgreSQL 15
// throwaway cluster (test/support/postgres.mjs) prepared with a Supabase project's roles:
// - the Supabase CLI itself (the pinned `supabase` npm package, no Docker) applies supabase/migrations with
//   `supabase migration up --db-url`, and records each one in its history table;
// - the pgTAP tests in supabase/tests pass under pg_prove (Debian's postgresql-15-pgtap and pg_prove);
// - supabase/seed.sql gives the demo containers of demo/containers.example.json, as get_edge_config reads them.
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeConfig, EdgeConfigSchema } from "../../schemas/edge-config";
import { ROOT } from "../../scripts/platform.mjs";
import { SUPABASE_ROLES_SQL, startPostgres } from "../support/postgres.mjs";

let pg: Awaited<ReturnType<typeof startPostgres>>;
let cliOutput: string;

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const migrationFiles = readdirSync(join(ROOT, "supabase/migrations"))
  .filter((f) => f.endsWith(".sql"))
  .sort();
const testFiles = readdirSync(join(ROOT, "supabase/tests"))
  .filter((f) => f.endsWith(".sql"))
  .sort();

beforeAll(async () => {
  pg = await startPostgres();
  await pg.exec(SUPABASE_ROLES_SQL);
  // --yes: the CLI asks before applying when its output is not a terminal.
  const cli = await run(join(ROOT, "node_modules/.bin/supabase"), ["migration", "up", "--db-url", pg.url(), "--yes"]);
  cliOutput = `${cli.stdout}\n${cli.stderr}`;
  if (cli.code !== 0) throw new Error(`supabase migration up failed (${cli.code}):\n${cliOutput}`);
});

afterAll(async () => {
  await pg?.stop();
});

describe("supabase migration up --db-url (Supabase CLI)", () => {
  it("applies every migration file and records it in the CLI's history table", async () => {
    const rows = await pg.query(
      `select version || '_' || name || '.sql' as file from supabase_migrations.schema_migrations order by version`,
    );
    expect(rows.map((r) => r.file)).toEqual(migrationFiles);
    expect(
      await pg.query(
        `select proname from pg_proc where proname in ('get_edge_config', 'edge_outbox_pending', 'edge_outbox_mark_delivered') order by 1`,
      ),
    ).toEqual([{ proname: "edge_outbox_mark_delivered" }, { proname: "edge_outbox_pending" }, { proname: "get_edge_config" }]);
  });

  it("a second run finds nothing to apply", async () => {
    const again = await run(join(ROOT, "node_modules/.bin/supabase"), ["migration", "up", "--db-url", pg.url(), "--yes"]);
    expect(again.code).toBe(0);
    expect(`${again.stdout}${again.stderr}`).toMatch(/up to date/i);
  });
});

describe("pgTAP (supabase/tests, pg_prove)", () => {
  it("every test file passes", async () => {
    expect(testFiles.length).toBeGreaterThan(0);
    const files = testFiles.map((f) => join("supabase/tests", f));
    const prove = await run("pg_prove", [
      "--host",
      pg.socketDir,
      "--port",
      String(pg.port),
      "--username",
      "postgres",
      "--dbname",
      "postgres",
      "--verbose",
      ...files,
    ]);
    const output = `${prove.stdout}\n${prove.stderr}`;
    expect(output, output).toMatch(/^Result: PASS$/m);
    expect(prove.code, output).toBe(0);
    // Every file ran (a file that dies half-way, or runs fewer tests than it planned, is no PASS).
    expect(output).toMatch(/^All tests successful\.$/m);
    expect(output).toMatch(new RegExp(`^Files=${files.length}, Tests=\\d+`, "m"));
  });

  it("the tests leave no rows behind (they can run against a real project)", async () => {
    const [row] = await pg.query(
      `select (select count(*) from containers) as containers, (select count(*) from edge_outbox) as outbox, (select count(*) from edge_tombstones) as tombstones`,
    );
    expect(row).toEqual({ containers: 0, outbox: 0, tombstones: 0 });
  });
});

describe("supabase/seed.sql", () => {
  it("creates the demo containers exactly as demo/containers.example.json describes them", async () => {
    await pg.exec(readFileSync(join(ROOT, "supabase/seed.sql"), "utf8"), { database: "postgres" });
    const demo = JSON.parse(readFileSync(join(ROOT, "demo/containers.example.json"), "utf8")) as unknown[];
    // get_edge_config sorts hosts and entitlements; the example file lists them in its own order.
    const normal = (config: EdgeConfig) => ({
      ...config,
      infraHosts: [...config.infraHosts].sort(),
      publicHosts: [...config.publicHosts].sort(),
      entitlements: [...config.entitlements].sort(),
    });
    for (const raw of demo) {
      const expected = v.parse(EdgeConfigSchema, raw);
      const [row] = await pg.query(`select public.get_edge_config('${expected.containerId}') as config`);
      expect(normal(v.parse(EdgeConfigSchema, row.config))).toEqual(normal(expected));
    }
    expect(await pg.query(`select container_id, config_version from edge_outbox order by id`)).toEqual([
      { container_id: "demo-shop", config_version: 1 },
      { container_id: "demo-basic", config_version: 1 },
    ]);
  });
});
