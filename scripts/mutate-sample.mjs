// `npm run mutate:sample`: a mutation-testing pass over a seeded random sample of the code `npm run mutate` covers.
// A full pass plants about 1,900 mutants and runs the tests that reach each one, several hours on a 2-core machine;
// the sample keeps every file of stryker.config.mjs's `mutate` list and, in each, a random third of its blocks of
// BLOCK lines (Stryker mutates what lies inside a `file:start-end` range), so it estimates the same score in about a
// third of the time. Mutants that span more than one block (a whole function's body) are not in the sample.
//   MUTATE_SEED=1 MUTATE_SHARE=0.33 npm run mutate:sample [-- extra stryker options | --score-only]
// Results: reports/mutation-sample.json (Stryker's JSON report), and the score printed per file.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import config from "../stryker.config.mjs";

const root = join(import.meta.dirname, "..");
const BLOCK = 8;
const share = Number(process.env.MUTATE_SHARE ?? "0.33");
const seed = Number(process.env.MUTATE_SEED ?? "1");

/**
 * mulberry32, seeded by the seed and the file's path: the same sample on every machine, and a file's sample does
 * not move when another file grows or shrinks.
 */
function randomFor(/** @type {string} */ file) {
  let state = seed;
  for (const char of file) state = Math.imul(state ^ char.charCodeAt(0), 0x9e3779b1);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** @param {string} pattern a path with at most one `{a,b}` list, as stryker.config.mjs writes them (no wildcards) */
function expand(pattern) {
  const list = /\{([^}]*)\}/.exec(pattern);
  if (list === null) return [pattern];
  return (list[1] ?? "").split(",").map((name) => pattern.replace(list[0], name));
}

const ranges = [];
for (const file of /** @type {string[]} */ (config.mutate).flatMap(expand)) {
  const lines = readFileSync(join(root, file), "utf8").split("\n").length;
  const random = randomFor(file);
  for (let start = 1; start <= lines; start += BLOCK) {
    if (random() < share) ranges.push({ file, start, end: Math.min(start + BLOCK - 1, lines) });
  }
}
console.log(`sample: ${ranges.length} blocks of ${BLOCK} lines (share ${share}, seed ${seed})`);

// `--score-only`: score the last report again without running Stryker.
const scoreOnly = process.argv.includes("--score-only");
const run = scoreOnly
  ? { status: 0 }
  : spawnSync(
      process.execPath,
      [
        join(root, "node_modules/@stryker-mutator/core/bin/stryker.js"),
        "run",
        "--mutate",
        ranges.map((r) => `${r.file}:${r.start}-${r.end}`).join(","),
        ...process.argv.slice(2).filter((arg) => arg !== "--score-only"),
      ],
      { cwd: root, stdio: "inherit", env: { ...process.env, MUTATE_RUN: "sample" } },
    );
if (run.status !== 0) process.exit(run.status ?? 1);

/** @typedef {{ status: string, location: { start: { line: number }, end: { line: number } } }} Mutant */
/** @type {{ files: Record<string, { mutants: Mutant[] }> }} */
const report = JSON.parse(readFileSync(join(root, "reports/mutation-sample.json"), "utf8"));
const caught = (/** @type {string} */ status) => status === "Killed" || status === "Timeout";
const missed = (/** @type {string} */ status) => status === "Survived" || status === "NoCoverage";
// The incremental report keeps the results of mutants an earlier sample had and this one has not (Stryker carries
// them over unchanged, with their old tests): only this sample's blocks count.
const inSample = (/** @type {string} */ file, /** @type {Mutant} */ m) =>
  ranges.some((r) => r.file === file && r.start <= m.location.start.line && m.location.end.line <= r.end);
let total = 0;
let killed = 0;
for (const [file, { mutants: all }] of Object.entries(report.files).sort()) {
  const mutants = all.filter((m) => inSample(file, m));
  const k = mutants.filter((m) => caught(m.status)).length;
  const n = k + mutants.filter((m) => missed(m.status)).length;
  total += n;
  killed += k;
  if (n > 0) console.log(`${file.padEnd(44)} ${String(k).padStart(4)} / ${String(n).padStart(4)}  ${((100 * k) / n).toFixed(1)} %`);
}
console.log(
  `${"sample".padEnd(44)} ${String(killed).padStart(4)} / ${String(total).padStart(4)}  ${((100 * killed) / total).toFixed(1)} %`,
);
