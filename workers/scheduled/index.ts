// The control Worker's Cron Triggers. Each cron expression (wrangler config `triggers.crons`) is one job.
import { runAlertChecks } from "../alerts/check";
import { sweepOutbox } from "./outbox-sweep";

export const CRONS = {
  /** Outbox sweeper: lost webhooks are delivered within a minute. */
  sweep: "* * * * *",
  /** Alert check: 5xx share, traffic against its baseline, dead letters, container sync, custom hostnames. */
  alerts: "*/5 * * * *",
} as const;

export async function runScheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  switch (controller.cron) {
    case CRONS.sweep:
      await sweepOutbox(env);
      return;
    case CRONS.alerts:
      await runAlertChecks(env, controller.scheduledTime);
      return;
    default:
      // A cron in the config that no job answers to is a deployment mistake; say so rather than do nothing quietly.
      console.error(JSON.stringify({ event: "unknown_cron", cron: controller.cron }));
  }
}
