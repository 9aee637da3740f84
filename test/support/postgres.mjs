// A throwaway PostgreSQL cluster for Node-side tests (Debian's postgresql package; scripts/setup.sh installs it):
// initdb into a temp dir, start on a free port listening only on a unix socket inside that dir, and remove
// everything on stop. PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
// Plain JavaScript with JSDoc: the TypeScript program (tsconfig) has Workers types only, no Node types.
import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, ROOT } from "../../scripts/platform.mjs";

const MIGRATIONS_DIR = join(ROOT, "supabase/migrations");

function binDir() {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, "bin/initdb"))) : [];
  if (versions.length === 0) throw new Error("PostgreSQL is not installed (run: bash scripts/setup.sh --with-test-deps)");
  versions.sort((a, b) => Number(b) - Number(a));
  return join(base, /** @type {string} */ (versions[0]), "bin");
}

/**
 * @param {string} file
 * @param {string[]} args
 * @param {{ input?: string, asPostgres?: boolean }} [options]
 * @returns {Promise<{ stdout: string, stderr: string }>}
 */
function run(file, args, { input, asPostgres = false } = {}) {
  const root = process.getuid?.() === 0;
  const [cmd, argv] = asPostgres && root ? ["runuser", ["-u", "postgres", "--", file, ...args]] : [file, args];
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, argv, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(new Error(`${file} failed: ${stderr || error.message}`), { stderr, stdout }));
      else resolve({ stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/**
 * @typedef {{ role?: string, database?: string }} SqlOptions  role: run the SQL after SET ROLE (e.g. "anon"), to
 *   test privileges; database: another database of the cluster (default "postgres")
 * @typedef {{
 *   port: number,
 *   socketDir: string,
 *   exec: (sql: string, options?: SqlOptions) => Promise<string>,
 *   query: (sql: string, options?: SqlOptions) => Promise<any[]>,
 *   url: (database?: string) => string,
 *   stop: () => Promise<void>,
 * }} Postgres
 */

/**
 * The roles a Supabase project has (client roles anon and authenticated, and service_role with BYPASSRLS) and
 * Supabase's default grants to all three, so the migrations' guarded, role-specific parts run as they would there.
 * Roles are cluster-wide: run this once per cluster.
 */
export const SUPABASE_ROLES_SQL = `
  create role anon nologin;
  create role authenticated nologin;
  create role service_role nologin bypassrls;
  alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
  alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
  alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
`;

/** @returns {Promise<Postgres>} */
export async function startPostgres() {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), "qaxal-pg-"));
  if (process.getuid?.() === 0) {
    const uid = Number((await run("id", ["-u", "postgres"])).stdout);
    const gid = Number((await run("id", ["-g", "postgres"])).stdout);
    chownSync(dir, uid, gid);
  }
  const data = join(dir, "data");
  const port = await freePort();
  const stop = async () => {
    if (existsSync(join(data, "postmaster.pid"))) {
      await run(join(bin, "pg_ctl"), ["stop", "-D", data, "-m", "immediate", "-w"], { asPostgres: true }).catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "-N"], {
      asPostgres: true,
    });
    await run(
      join(bin, "pg_ctl"),
      [
        "start",
        "-D",
        data,
        "-w",
        "-l",
        join(dir, "server.log"),
        "-o",
        `-p ${port} -k ${dir} -c listen_addresses='' -c fsync=off -c full_page_writes=off`,
      ],
      { asPostgres: true },
    );
  } catch (error) {
    const log = existsSync(join(dir, "server.log")) ? readFileSync(join(dir, "server.log"), "utf8") : "";
    await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${log}`);
  }

  /**
   * Runs SQL (any number of statements, stopping at the first error) and returns psql's unaligned output.
   * @type {(sql: string, options?: SqlOptions) => Promise<string>}
   */
  const exec = async (sql, { role, database = "postgres" } = {}) => {
    const script = role ? `set role ${role};\n${sql}` : sql;
    const { stdout } = await run(
      join(bin, "psql"),
      ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", dir, "-p", String(port), "-U", "postgres", "-d", database, "-f", "-"],
      { input: script },
    );
    return stdout;
  };

  /** Rows of one SELECT as JSON objects (PostgreSQL builds the JSON, so types come out as the edge would see them). */
  const query = async (sql, options) => {
    return JSON.parse(await exec(`select coalesce(json_agg(q), '[]'::json) from (${sql}) as q;`, options));
  };

  /** A libpq URL for another client (the Supabase CLI, pg_prove's psql): user postgres over the unix socket. */
  const url = (database = "postgres") =>
    `postgresql://postgres@localhost/${database}?host=${encodeURIComponent(dir)}&port=${port}&sslmode=disable`;

  return { port, socketDir: dir, exec, query, url, stop };
}

/**
 * Applies every migration in file-name order, each in its own transaction, as a Supabase project would.
 * @param {Postgres} pg
 * @param {{ database?: string }} [options]
 */
export async function applyMigrations(pg, { database } = {}) {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  for (const file of files) {
    await pg.exec(`begin;\n${readFileSync(join(MIGRATIONS_DIR, file), "utf8")}\ncommit;`, { database });
  }
  return files;
}
