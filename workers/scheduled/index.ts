// The control Worker's Cron Triggers. Each cron expression (wrangler.control.jsonc `triggers.crons`) runs its jobs;
// POST /_edge/scheduled runs the same jobs on request (the local run fires them that way, on the same schedules).
import { CRONS } from "../../schemas/scheduled";
import { refreshPendingHostnames } from "../admin/custom-hostnames";
import { runAlertChecks } from "../alerts/check";
import { sweepOutbox } from "./outbox-sweep";

export { CRONS };

type Cron = (typeof CRONS)[keyof typeof CRONS];
type Job = (env: Env, scheduledTime: number) => Promise<unknown>;

/** What each cron runs, by job name (a manual run answers with each job's result under its name). */
const JOBS: Record<Cron, Record<string, Job>> = {
  [CRONS.everyMinute]: { outboxSweep: (env) => sweepOutbox(env), hostnameRefresh: (env, now) => refreshPendingHostnames(env, now) },
  [CRONS.everyFiveMinutes]: { alertCheck: (env, now) => runAlertChecks(env, now) },
};

export async function runScheduled(controller: ScheduledController, env: Env, _ctx?: ExecutionContext): Promise<void> {
  if (!(controller.cron in JOBS)) {
    // A cron in the config that no job answers to is a deployment mistake; say so rather than do nothing quietly.
    console.error(JSON.stringify({ event: "unknown_cron", cron: controller.cron }));
    return;
  }
  await runCron(env, controller.cron as Cron, controller.scheduledTime);
}

/**
 * Runs every job of `cron`. Every job runs even when another fails; the run fails (and Cloudflare records it) if any
 * did. Returns each job's result by name.
 */
export async function runCron(env: Env, cron: Cron, scheduledTime: number): Promise<Record<string, unknown>> {
  const jobs = Object.entries(JOBS[cron]);
  const results = await Promise.allSettled(jobs.map(([, job]) => job(env, scheduledTime)));
  const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failed) throw failed.reason;
  return Object.fromEntries(jobs.map(([name], i) => [name, (results[i] as PromiseFulfilledResult<unknown>).value]));
}
