// Turns a LOG_QUEUE batch into records. A message is a packed envelope ({ v: 1, records: [...] }, see
// schemas/log-record.ts), or one bare record. Every record is validated on its own: a bad one is set aside to be
// kept as a dead letter by itself, and its neighbours in the same message go on as usual.
import * as v from "valibot";
import { describeIssues } from "../../schemas/issues";
import { type LogRecord, LogRecordSchema, PACKED_LOG_VERSION, PackedLogMessageSchema } from "../../schemas/log-record";

interface Rejected {
  /** Dead-letter id: the message id, plus the record's index when the message was packed. */
  id: string;
  /** What a replay re-sends: the bad record alone in an envelope, or the unreadable message as it came. */
  body: unknown;
  reason: string;
}

export interface Unpacked {
  /** Valid records in delivery order, and inside each message in the order they were packed. */
  records: LogRecord[];
  rejected: Rejected[];
}

const looksPacked = (body: unknown): boolean => typeof body === "object" && body !== null && "v" in body;

export function unpackMessages(messages: readonly Message<unknown>[]): Unpacked {
  const records: LogRecord[] = [];
  const rejected: Rejected[] = [];
  for (const message of messages) {
    const packed = v.safeParse(PackedLogMessageSchema, message.body);
    if (packed.success) {
      packed.output.records.forEach((raw, index) => {
        const parsed = v.safeParse(LogRecordSchema, raw);
        if (parsed.success) records.push(parsed.output);
        else {
          const body = { v: PACKED_LOG_VERSION, records: [raw] };
          rejected.push({ id: `${message.id}-${index}`, body, reason: `record ${index}: ${describeIssues(parsed.issues)}` });
        }
      });
      continue;
    }
    // A bare record is what Workers deployed before packing sent. Accepting it costs one parse, and keeps the
    // messages still queued during a rollout (and old dead letters replayed from R2) from being refused.
    const single = v.safeParse(LogRecordSchema, message.body);
    if (single.success) {
      records.push(single.output);
      continue;
    }
    const issues = looksPacked(message.body) ? packed.issues : single.issues;
    rejected.push({ id: message.id, body: message.body, reason: `unreadable message: ${describeIssues(issues)}` });
  }
  return { records, rejected };
}
