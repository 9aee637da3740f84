// Reads a JSON request body with a size cap and validates it: 413 over the cap, 400 naming the problem.
import * as v from "valibot";
import { describeIssues } from "../../schemas/issues";
import { EdgeError } from "./errors";

const DEFAULT_BODY_LIMIT = 16 * 1024;

/** Reads at most `limit` bytes; stops reading (and cancels the stream) as soon as the cap is passed. */
async function readLimitedText(request: Request, limit = DEFAULT_BODY_LIMIT): Promise<string> {
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
function parseWith<S extends v.GenericSchema>(schema: S, input: unknown, what: "body" | "query" = "body"): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (!result.success) throw new EdgeError(400, `invalid_${what}`, `invalid ${what}: ${describeIssues(result.issues, schema)}`);
  return result.output;
}

/** Query parameters (`?since=24h&container=shop1`) validated like a body: 400 `invalid_query` naming the parameter. */
export function parseQuery<S extends v.GenericSchema>(schema: S, url: string): v.InferOutput<S> {
  return parseWith(schema, Object.fromEntries(new URL(url).searchParams), "query");
}

/** The line of the first `//` or `/*` outside a string (annotated examples pasted as they are), or null. */
function commentLine(text: string): number | null {
  let line = 1;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === "\n") line += 1;
    else if (inString) {
      if (c === "\\") i += 1;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "/" && (text[i + 1] === "/" || text[i + 1] === "*")) return line;
  }
  return null;
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
    const line = commentLine(text);
    throw new EdgeError(
      400,
      "invalid_json",
      line === null
        ? "body is not valid JSON"
        : `body is not valid JSON: it has a comment on line ${line}; JSON allows no comments (// or /* */), remove them`,
    );
  }
  return parseWith(schema, input);
}
