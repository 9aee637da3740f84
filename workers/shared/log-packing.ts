// Packs log records into as few LOG_QUEUE messages as Queues' limits allow (send-batches.ts then groups the
// messages into sendBatch calls).
// Order is kept throughout: records come out of the consumer in the order this isolate produced them.
import {
  type LogRecord,
  MAX_MESSAGE_BYTES,
  MAX_RECORDS_PER_MESSAGE,
  PACKED_LOG_VERSION,
  type PackedLogMessage,
} from "../../schemas/log-record";
import { jsonBytes } from "./send-batches";

export interface PackedMessage {
  body: PackedLogMessage;
  /** UTF-8 bytes of the body as JSON (what Queues stores for contentType "json"). */
  bytes: number;
}

/** `{"v":1,"records":[]}` */
const ENVELOPE_BYTES = JSON.stringify({ v: PACKED_LOG_VERSION, records: [] }).length;

/** Splits `records` into messages of at most MAX_RECORDS_PER_MESSAGE records and MAX_MESSAGE_BYTES bytes. */
export function packRecords(records: readonly LogRecord[]): PackedMessage[] {
  const messages: PackedMessage[] = [];
  let current: LogRecord[] = [];
  let bytes = ENVELOPE_BYTES;
  for (const record of records) {
    const size = jsonBytes(record);
    // Records after the first are preceded by a comma.
    if (current.length > 0 && (current.length === MAX_RECORDS_PER_MESSAGE || bytes + 1 + size > MAX_MESSAGE_BYTES)) {
      messages.push({ body: { v: PACKED_LOG_VERSION, records: current }, bytes });
      current = [];
      bytes = ENVELOPE_BYTES;
    }
    bytes += current.length > 0 ? 1 + size : size;
    current.push(record);
  }
  if (current.length > 0) messages.push({ body: { v: PACKED_LOG_VERSION, records: current }, bytes });
  return messages;
}
