// Turns valibot issues into one plain-words message that names the failing field and says what is expected.
// Every boundary goes through this, so no raw library text ("Invalid key: Expected …") ever reaches a client.
import type * as v from "valibot";

type AnySchema = v.GenericSchema & {
  entries?: Record<string, AnySchema>;
  wrapped?: AnySchema;
  item?: AnySchema;
  pipe?: readonly { type: string; description?: string }[];
  expects?: string;
};

/** `modules.cookieKeeper.maxAgeDays`, `publicHosts[1]`. */
function fieldName(issue: v.BaseIssue<unknown>): string | null {
  const keys = issue.path?.map((item) => item.key) ?? [];
  if (keys.length === 0) return null;
  return keys.map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`)).join("");
}

/** The schema of the field at `keys` below `root` (through pipes, optionals and arrays), if it can be found. */
function schemaAt(root: AnySchema | undefined, keys: readonly unknown[]): AnySchema | undefined {
  let schema = root;
  for (const key of keys) {
    while (schema?.wrapped) schema = schema.wrapped;
    if (!schema) return undefined;
    schema = typeof key === "number" ? schema.item : schema.entries?.[String(key)];
  }
  while (schema?.wrapped) schema = schema.wrapped;
  return schema;
}

function descriptionOf(schema: AnySchema | undefined): string | undefined {
  return schema?.pipe?.find((item) => item.type === "description")?.description;
}

/** valibot's `expected` notation in words: `string` → "a string", `("a" | "b")` → `one of "a", "b"`. */
function expectedWords(expected: string | null): string {
  if (!expected) return "a valid value";
  const words: Record<string, string> = {
    string: "a string",
    number: "a number",
    boolean: "true or false",
    Array: "a list",
    Object: "an object",
    null: "null",
    never: "nothing",
  };
  if (words[expected]) return words[expected];
  const options = expected.replace(/^\(|\)$/g, "").split(" | ");
  return options.length > 1 ? `one of ${options.join(", ")}` : expected;
}

/** valibot's size checks, in words (their default texts are "Invalid length: Expected >=1 …"). */
const LIMITS: Record<string, string> = {
  min_length: "have at least",
  max_length: "have at most",
  length: "have exactly",
  min_value: "be at least",
  max_value: "be at most",
};

/** What the client sent, in words: `"x"` → a string, `5` → a number. */
function receivedWords(received: string): string {
  if (received === "undefined") return "nothing";
  if (received.startsWith('"')) return `the string ${received.length > 60 ? `${received.slice(0, 57)}…"` : received}`;
  if (/^-?\d/.test(received)) return `the number ${received}`;
  if (received === "Array") return "a list";
  if (received === "Object") return "an object";
  return received;
}

function describeIssue(issue: v.BaseIssue<unknown>, root: AnySchema | undefined): string {
  const field = fieldName(issue);
  const keys = issue.path?.map((item) => item.key) ?? [];
  const isObject = issue.type === "object" || issue.type === "strict_object" || issue.type === "loose_object";
  // strictObject reports an unknown key as "Expected never".
  if (isObject && issue.expected === "never") return `unknown field "${field}" (not part of this schema; check its spelling)`;
  if (isObject && issue.received === "undefined" && issue.expected?.startsWith('"')) {
    const target = schemaAt(root, keys);
    const about = descriptionOf(target) ?? (target?.expects ? expectedWords(target.expects) : undefined);
    return `missing field "${field}"${about ? ` (required: ${about})` : " (required)"}`;
  }
  // A wrong type: say what was sent. valibot's own texts ("Invalid type: …") are replaced entirely.
  const got = issue.kind === "schema" ? `, got ${receivedWords(issue.received)}` : "";
  const limit = LIMITS[issue.type];
  if (limit && /^Invalid /.test(issue.message)) {
    const unit = typeof issue.input === "string" ? "characters" : Array.isArray(issue.input) ? "items" : "";
    const size =
      typeof issue.input === "string" || Array.isArray(issue.input) ? `, got ${issue.input.length}` : `, got ${String(issue.input)}`;
    return `${field ?? "the body"} must ${limit} ${String((issue as { requirement?: unknown }).requirement)}${unit ? ` ${unit}` : ""}${size}`;
  }
  if (/^Invalid (type|key|length|value|format):/.test(issue.message)) {
    return `${field ?? "the body"} must be ${expectedWords(issue.expected)}${got}`;
  }
  if (!field) return issue.message;
  // Custom messages name their own field ("maxAgeDays must be >= 1"): put the full path in its place.
  const last = keys.at(-1);
  const value =
    issue.kind !== "schema" && typeof issue.input === "string" && issue.input.length <= 80 ? ` (got ${JSON.stringify(issue.input)})` : "";
  if (issue.message.startsWith(`${field} `)) return `${issue.message}${got}${value}`;
  if (typeof last === "string" && issue.message.startsWith(`${last} `)) return `${field}${issue.message.slice(last.length)}${got}${value}`;
  return `${field}${value}: ${issue.message}${got}`;
}

/** Up to five issues, `; `-separated. Pass the schema that was parsed so a missing field can say what it needs. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[], schema?: v.GenericSchema): string {
  return issues
    .slice(0, 5)
    .map((issue) => describeIssue(issue, schema as AnySchema | undefined))
    .join("; ");
}
