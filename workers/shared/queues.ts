// Queue names as declared in wrangler.jsonc; the queue handler dispatches on batch.queue.
export const QUEUES = {
  config: "qaxal-config",
  logs: "qaxal-logs",
  configDeadLetters: "qaxal-config-dlq",
  logsDeadLetters: "qaxal-logs-dlq",
} as const;

/** Exponential retry delay for a message that failed `attempts` times (Queues counts from 1). */
export function backoffSeconds(attempts: number, capSeconds = 300): number {
  return Math.min(2 ** Math.max(attempts, 1), capSeconds);
}
