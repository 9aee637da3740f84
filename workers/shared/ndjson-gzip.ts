// gzip NDJSON: how a log batch's records are stored in R2 (written by workers/log-consumer) and read back by the
// report and the logs search (workers/reports).

/** One JSON document per line, gzip-compressed, fully buffered (R2 put needs a known length). */
export async function gzipNdjson(records: readonly unknown[]): Promise<ArrayBuffer> {
  const text = `${records.map((record) => JSON.stringify(record)).join("\n")}\n`;
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Response(stream).arrayBuffer();
}

/** The lines of a gzip NDJSON body that parse as JSON; broken lines are skipped (and counted by the caller). */
export async function gunzipNdjson(body: ReadableStream<Uint8Array>): Promise<{ values: unknown[]; broken: number }> {
  const text = await new Response(body.pipeThrough(new DecompressionStream("gzip"))).text();
  const values: unknown[] = [];
  let broken = 0;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    try {
      values.push(JSON.parse(line));
    } catch {
      broken += 1;
    }
  }
  return { values, broken };
}
