// The control Worker's Cron Triggers in the local run. `wrangler dev` never fires them, and its
// `/cdn-cgi/handler/scheduled` reaches only the first Worker of the session (the edge Worker, which has none), so this
// fires each cron of wrangler.control.jsonc on its own schedule through POST /_edge/scheduled, the endpoint that runs
// what a Cron Trigger runs. Runs start on the wall-clock boundaries Cloudflare uses (every minute on the minute,
// every 5 minutes at :00, :05, …); CRON_SPEEDUP=n runs them n times as often.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseJsonc } from "./jsonc.mjs";

const MINUTE_MS = 60_000;

/** The crons of the control Worker's config with their periods; only `* * * * *` and `*\/N * * * *` occur there. */
export function controlCrons(root) {
  const config = parseJsonc(readFileSync(join(root, "wrangler.control.jsonc"), "utf8"));
  return (config.triggers?.crons ?? []).map((cron) => {
    const every = cron === "* * * * *" ? 1 : Number(/^\*\/(\d+) \* \* \* \*$/.exec(cron)?.[1]);
    if (!every) throw new Error(`the local run fires only "* * * * *" and "*/N * * * *" crons, not "${cron}" (scripts/local-crons.mjs)`);
    return { cron, periodMs: every * MINUTE_MS };
  });
}

/** The manual trigger of one cron, as a person types it (printed by npm start, shown in docs/development.md). */
export function cronCommand(baseUrl, edgeAuth, cron, curl = "curl") {
  return `${curl} -X POST -H 'X-Edge-Auth: ${edgeAuth}' '${baseUrl}/_edge/scheduled?cron=${cron.replaceAll(" ", "+")}'`;
}

/**
 * Fires every cron of `crons` on its period (divided by `speedup`) until `stop()`. A run that is still going when the
 * next is due is not doubled; a failed run is reported through `log` and the schedule goes on.
 * @param {{ workerUrl: string, edgeAuth: string, crons: { cron: string, periodMs: number }[], speedup?: number, log: (line: string) => void }} options
 */
export function startLocalCrons({ workerUrl, edgeAuth, crons, speedup = 1, log }) {
  const timers = new Set();
  let stopped = false;
  for (const { cron, periodMs } of crons) {
    const period = Math.max(1000, Math.round(periodMs / speedup));
    let running = false;
    const fire = async () => {
      if (running) return;
      running = true;
      try {
        const res = await fetch(`${workerUrl}/_edge/scheduled?${new URLSearchParams({ cron })}`, {
          method: "POST",
          headers: { "X-Edge-Auth": edgeAuth },
        });
        if (!res.ok) log(`[cron ${cron}] ${res.status} ${await res.text()}`);
      } catch (error) {
        if (!stopped) log(`[cron ${cron}] ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        running = false;
      }
    };
    const next = () => {
      if (stopped) return;
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          void fire();
          next();
        },
        period - (Date.now() % period),
      );
      timers.add(timer);
    };
    next();
  }
  return () => {
    stopped = true;
    for (const timer of timers) clearTimeout(timer);
  };
}
