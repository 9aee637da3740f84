// The control Worker's Cron Triggers. Each cron expression (wrangler.control.jsonc `triggers.crons`) runs its jobs.
import { refreshPendingHostnames } from "../admin/custom-hostnames";
import { runAlertChecks } from "../alerts/check";
import { sweepOutbox } from "./outbox-sweep";

export const CRONS = {
  /** The outbox sweeper (lost webhooks are delivered within a minute) and the refresh of pending custom hostnames. */
  everyMinute: "* * * * *",
  /** Alert check: 5xx share, traffic against its baseline, dead letters, container sync, custom hostnames. */
  everyFiveMinutes: "*/5 * * * *",
} as const;

export async function runScheduled(controller: ScheduledController, env: Env, _ctx?: ExecutionContext): Promise<void> {
  switch (controller.cron) {
    case CRONS.everyMinute:
      return runAll([() => sweepOutbox(env), () => refreshPendingHostnames(env)]);
    case CRONS.everyFiveMinutes:
      await runAlertChecks(env, controller.scheduledTime);
      return;
    default:
      // A cron in the config that no job answers to is a deployment mistake; say so rather than do nothing quietly.
      console.error(JSON.stringify({ event: "unknown_cron", cron: controller.cron }));
  }
}

/** Every job runs even when another fails; the run fails (and Cloudflare records it) if any did. */
async function runAll(jobs: (() => Promise<unknown>)[]): Promise<void> {
  const results = await Promise.allSettled(jobs.map((job) => job()));
  const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failed) throw failed.reason;
}
