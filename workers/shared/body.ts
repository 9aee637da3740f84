// Reads a JSON request body with a size cap and validates it: 413 over the cap, 400 naming the problem.
import * as v from "valibot";
import { describeIssues } from "../../schemas/issues";
import { EdgeError } from "./errors";

export const DEFAULT_BODY_LIMIT = 16 * 1024;

/** Reads at most `limit` bytes; stops reading (and cancels the stream) as soon as the cap is passed. */
export async function readLimitedText(request: Request, limit = DEFAULT_BODY_LIMIT): Promise<string> {
  const declared = Number(request.headers.get("Content-Length") ?? "0");
  if (declared > limit) throw new EdgeError(413, "payload_too_large", `body is larger than ${limit} bytes`);
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new EdgeError(413, "payload_too_large", `body is larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** Validates `input` (the request's body or query); a failure is `400 invalid_body` / `invalid_query` naming the field. */
export function parseWith<S extends v.GenericSchema>(schema: S, input: unknown, what: "body" | "query" = "body"): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (!result.success) throw new EdgeError(400, `invalid_${what}`, `invalid ${what}: ${describeIssues(result.issues, schema)}`);
  return result.output;
}

/** Query parameters (`?since=24h&container=shop1`) validated like a body: 400 `invalid_query` naming the parameter. */
export function parseQuery<S extends v.GenericSchema>(schema: S, url: string): v.InferOutput<S> {
  return parseWith(schema, Object.fromEntries(new URL(url).searchParams), "query");
}

export async function readJsonBody<S extends v.GenericSchema>(
  request: Request,
  schema: S,
  limit = DEFAULT_BODY_LIMIT,
): Promise<v.InferOutput<S>> {
  const text = await readLimitedText(request, limit);
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    throw new EdgeError(400, "invalid_json", "body is not valid JSON");
  }
  return parseWith(schema, input);
}
