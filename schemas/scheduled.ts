// The control Worker's Cron Triggers (wrangler.control.jsonc `triggers.crons`), and the query of POST /_edge/scheduled,
// which runs what one of them runs, now (the local run has no Cron Triggers; docs/development.md).
import * as v from "valibot";

export const CRONS = {
  /** The outbox sweeper (lost webhooks are delivered within a minute) and the refresh of pending custom hostnames. */
  everyMinute: "* * * * *",
  /** Alert check: 5xx share, traffic against its baseline, dead letters, container sync, custom hostnames. */
  everyFiveMinutes: "*/5 * * * *",
} as const;

const CRON_VALUES = Object.values(CRONS);

export const ScheduledRunQuerySchema = v.strictObject({
  cron: v.picklist(CRON_VALUES, `cron must be one of the Cron Triggers: ${CRON_VALUES.map((c) => `"${c}"`).join(", ")}`),
});
