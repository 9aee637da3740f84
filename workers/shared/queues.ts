// Queue names: `qaxal-<kind>` locally, `qaxal-<env>-<kind>` in a deployment (wrangler.control.jsonc). The queue
// handler dispatches on the kind, so one build serves every environment.
export const QUEUES = {
  config: "qaxal-config",
  logs: "qaxal-logs",
  configDeadLetters: "qaxal-config-dlq",
  logsDeadLetters: "qaxal-logs-dlq",
} as const;

export type QueueKind = "config" | "logs" | "config-dlq" | "logs-dlq";

const KINDS: readonly QueueKind[] = ["config-dlq", "logs-dlq", "config", "logs"];

/** The kind of a queue by its name's suffix (dead-letter suffixes are checked first), or null for a stranger. */
export function queueKind(name: string): QueueKind | null {
  return KINDS.find((kind) => name === `qaxal-${kind}` || (name.startsWith("qaxal-") && name.endsWith(`-${kind}`))) ?? null;
}

/** Exponential retry delay for a message that failed `attempts` times (Queues counts from 1). */
export function backoffSeconds(attempts: number, capSeconds = 300): number {
  return Math.min(2 ** Math.max(attempts, 1), capSeconds);
}
