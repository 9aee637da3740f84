// Packs log records into as few LOG_QUEUE messages as Queues' limits allow, and those messages into sendBatch calls.
// Order is kept throughout: records come out of the consumer in the order this isolate produced them.
import {
  type LogRecord,
  MAX_MESSAGE_BYTES,
  MAX_RECORDS_PER_MESSAGE,
  PACKED_LOG_VERSION,
  type PackedLogMessage,
} from "../../schemas/log-record";

export interface PackedMessage {
  body: PackedLogMessage;
  /** UTF-8 bytes of the body as JSON (what Queues stores for contentType "json"). */
  bytes: number;
}

/** `{"v":1,"records":[]}` */
const ENVELOPE_BYTES = JSON.stringify({ v: PACKED_LOG_VERSION, records: [] }).length;
const encoder = new TextEncoder();

export function jsonBytes(value: unknown): number {
  return encoder.encode(JSON.stringify(value)).byteLength;
}

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

/** Queues' sendBatch limits: 100 messages and 256 KB in total, each message carrying about 100 bytes of metadata. */
const SEND_BATCH_MESSAGES = 100;
const SEND_BATCH_BYTES = 256_000;
export const MESSAGE_METADATA_BYTES = 100;

/** Groups messages, in order, into sendBatch calls within Queues' limits. */
export function sendBatches(messages: readonly PackedMessage[]): PackedMessage[][] {
  const batches: PackedMessage[][] = [];
  let current: PackedMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = message.bytes + MESSAGE_METADATA_BYTES;
    if (current.length > 0 && (current.length === SEND_BATCH_MESSAGES || bytes + size > SEND_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
