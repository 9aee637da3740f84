// Grouping queue messages into sendBatch calls (workers/shared/send-batches.ts): Queues' limits of 100 messages and
// 256 KB per call, with nothing lost and nothing reordered.
import { describe, expect, it } from "vitest";
import { MESSAGE_METADATA_BYTES, sendBatches } from "../../workers/shared/send-batches";

/** A message standing for its body's size in bytes. */
const sizes = (count: number, bytes: number) => Array.from({ length: count }, () => bytes);
const own = (bytes: number) => bytes;

describe("sendBatches", () => {
  it("puts at most 100 messages into one sendBatch", () => {
    expect(sendBatches(sizes(250, 500), own).map((b) => b.length)).toEqual([100, 100, 50]);
  });

  it("keeps each sendBatch within 256 KB", () => {
    const batches = sendBatches(sizes(5, 127_000), own);
    expect(batches.map((b) => b.length)).toEqual([2, 2, 1]);
  });

  it("counts each message's metadata towards the 256 KB", () => {
    // Two of these bodies fit in 256 KB, but not with their metadata.
    const body = 128_000 - MESSAGE_METADATA_BYTES / 2;
    const batches = sendBatches(sizes(3, body), own);
    expect(batches.map((b) => b.length)).toEqual([1, 1, 1]);
  });

  it("keeps every message, in order", () => {
    const messages = Array.from({ length: 230 }, (_, i) => ({ id: i, bytes: (i % 7) * 4_000 }));
    expect(sendBatches(messages, (m) => m.bytes).flat()).toEqual(messages);
  });

  it("makes no call for no message", () => {
    expect(sendBatches([], own)).toEqual([]);
  });
});
