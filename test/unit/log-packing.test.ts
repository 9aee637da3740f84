// Packing log records into LOG_QUEUE messages: Queues' limits, nothing lost, nothing reordered. (The messages'
// sendBatch calls: send-batches.test.ts.)
import { describe, expect, it } from "vitest";
import { type LogRecord, MAX_MESSAGE_BYTES, MAX_RECORDS_PER_MESSAGE } from "../../schemas/log-record";
import { packRecords } from "../../workers/shared/log-packing";
import { jsonBytes } from "../../workers/shared/send-batches";
import { accessRecord, detectionRecord } from "../support/log-record-builders";

/** A record of about 1.4 KB: the longest path a record carries (512 characters), each two bytes in UTF-8. */
const bigRecord = () => accessRecord({ path: `/${"é".repeat(511)}` });

describe("packRecords", () => {
  it("fills messages up to MAX_RECORDS_PER_MESSAGE records and keeps every record in order", () => {
    const records: LogRecord[] = Array.from({ length: 2 * MAX_RECORDS_PER_MESSAGE + 50 }, (_, i) =>
      i % 20 === 0 ? detectionRecord() : accessRecord(),
    );
    const messages = packRecords(records);
    expect(messages.map((m) => m.body.records.length)).toEqual([MAX_RECORDS_PER_MESSAGE, MAX_RECORDS_PER_MESSAGE, 50]);
    expect(messages.flatMap((m) => m.body.records)).toEqual(records);
  });

  it("starts a new message before one would pass MAX_MESSAGE_BYTES", () => {
    const records = Array.from({ length: MAX_RECORDS_PER_MESSAGE }, bigRecord);
    const messages = packRecords(records);
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.flatMap((m) => m.body.records)).toEqual(records);
    for (const [i, message] of messages.entries()) {
      // The size the packer counted is the size Queues stores (the body as JSON, UTF-8).
      expect(message.bytes).toBe(jsonBytes(message.body));
      expect(message.bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      const next = messages[i + 1]?.body.records[0];
      if (next) expect(message.bytes + 1 + jsonBytes(next)).toBeGreaterThan(MAX_MESSAGE_BYTES);
    }
  });

  it("packs nothing into no message", () => {
    expect(packRecords([])).toEqual([]);
  });
});
