// Queues takes at most 100 messages and 256 KB per sendBatch call, each message counted with about 100 bytes of
// metadata. Every sender of more than one message (the log window, the outbox sweep, a replay) groups them here.

const SEND_BATCH_MESSAGES = 100;
const SEND_BATCH_BYTES = 256_000;
export const MESSAGE_METADATA_BYTES = 100;

const encoder = new TextEncoder();

/** A message body's size: the UTF-8 bytes of its JSON. */
export function jsonBytes(value: unknown): number {
  return encoder.encode(JSON.stringify(value)).byteLength;
}

/** Groups `items`, in order, into sendBatch calls within Queues' limits; `bytes` is an item's body size. */
export function sendBatches<T>(items: readonly T[], bytes: (item: T) => number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let total = 0;
  for (const item of items) {
    const size = bytes(item) + MESSAGE_METADATA_BYTES;
    if (current.length > 0 && (current.length === SEND_BATCH_MESSAGES || total + size > SEND_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      total = 0;
    }
    current.push(item);
    total += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
