// `npm start` (scripts/start.mjs) before it starts anything: one local run per state directory, and a busy port is one
// line naming the port and the variable that moves it. Each case exits before setup.sh and wrangler, so it is quick.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { freePort, ROOT } from "../../scripts/platform.mjs";

let dataDir: string;
const servers: Server[] = [];

/** Runs `npm start` (its script) against the test's state directory; resolves with its exit code and output. */
function start(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, "scripts/start.mjs"), ...args],
      { env: { ...process.env, EDGE_DATA_DIR: dataDir, ...env }, timeout: 20_000 },
      (error, stdout, stderr) => resolve({ code: error ? (error.code as number | null) : 0, stdout, stderr }),
    );
  });
}

/** Holds a port the way another program would. */
async function occupy(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  servers.push(server);
  return (server.address() as { port: number }).port;
}

/** A pid that no process has any more: a child that already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((r) => child.once("exit", r));
  return child.pid!;
}

const recordFile = () => join(dataDir, "platform.json");
const writeRecord = (pid: number, port: number) =>
  writeFileSync(recordFile(), JSON.stringify({ url: `http://127.0.0.1:${port}`, port, pid, state: "running" }));

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "qaxal-start-guard-"));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

describe("one local run per state directory", () => {
  it("a second start finds the first (its pid and URL recorded), says so in one line, exits non-zero and leaves the record alone", async () => {
    // This test's own process stands for the running first run: its pid is alive.
    writeRecord(process.pid, 8787);
    const before = readFileSync(recordFile(), "utf8");
    const { code, stdout, stderr } = await start({ PORT: String(await freePort()), SGTM_PORT: String(await freePort()) });
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr.trimEnd().split("\n")).toEqual([
      expect.stringMatching(
        new RegExp(
          `^npm start: another npm start \\(pid ${process.pid}\\) is already running on http://127\\.0\\.0\\.1:8787 .*EDGE_DATA_DIR=\\.data-2 PORT=\\d+ SGTM_PORT=\\d+ npm start$`,
        ),
      ),
    ]);
    expect(readFileSync(recordFile(), "utf8")).toBe(before);
  });

  it("ignores a record whose process is gone (it goes on to the port check, and leaves no record behind when that fails)", async () => {
    writeRecord(await deadPid(), 8787);
    const busy = await occupy();
    const { code, stderr } = await start({ PORT: String(busy), SGTM_PORT: String(await freePort()) });
    expect(code).toBe(1);
    expect(stderr).not.toContain("already running");
    expect(stderr).toContain(`port ${busy} is already in use`);
    expect(existsSync(recordFile())).toBe(false);
  });
});

describe("busy ports", () => {
  it("names the Worker port and PORT, in one line, without a stack", async () => {
    const busy = await occupy();
    const { code, stderr } = await start({ PORT: String(busy), SGTM_PORT: String(await freePort()) });
    expect(code).toBe(1);
    expect(stderr).toBe(
      `npm start: port ${busy} is already in use (another program or another local run); start on another one: PORT=${busy + 10} npm start\n`,
    );
  });

  it("names the stand-in origin's port and SGTM_PORT", async () => {
    const busy = await occupy();
    const { code, stderr } = await start({ PORT: String(await freePort()), SGTM_PORT: String(busy) });
    expect(code).toBe(1);
    expect(stderr).toBe(
      `npm start: port ${busy} is already in use (another program or another local run); start on another one: SGTM_PORT=${busy + 10} npm start\n`,
    );
  });
});

describe("npm start -- --help", () => {
  it("lists the options and the variables, and starts nothing", async () => {
    const { code, stdout } = await start({}, ["--help"]);
    expect(code).toBe(0);
    for (const word of ["--https", "PORT", "SGTM_PORT", "EDGE_DATA_DIR"]) expect(stdout).toContain(word);
    expect(existsSync(recordFile())).toBe(false);
  });
});
