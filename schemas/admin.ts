// Operator request bodies under /_edge/admin/.
import * as v from "valibot";
import { CONTAINER_ID_OR_EMPTY, ContainerIdSchema } from "./fields";

export const ReplayBodySchema = v.union(
  [
    v.strictObject({ containerIds: v.pipe(v.array(ContainerIdSchema), v.minLength(1), v.maxLength(1000)) }),
    v.strictObject({ all: v.literal(true) }),
    v.strictObject({ deadLetters: v.literal(true) }),
  ],
  'body must be {"containerIds": [...]} (1-1000 ids), {"all": true} or {"deadLetters": true}',
);

// ---- API keys (POST /_edge/admin/keys) and the audit log (GET /_edge/admin/audit) ----

export const API_KEY_ACCESS = ["read", "write"] as const;
export type ApiKeyAccess = (typeof API_KEY_ACCESS)[number];
/** The containers a key may touch: a list of ids, or "*" for every container. */
export type ApiKeyScope = string[] | "*";

export const ApiKeyCreateSchema = v.strictObject({
  name: v.pipe(
    v.string("name must be a string"),
    v.minLength(1, "name must not be empty"),
    v.maxLength(100, "name must be at most 100 characters"),
    v.description("who or what uses the key, shown in the audit log (e.g. deploy-bot)"),
  ),
  containers: v.pipe(
    v.union(
      [v.literal("*"), v.pipe(v.array(ContainerIdSchema), v.minLength(1), v.maxLength(1000))],
      'containers must be "*" or a list of 1-1000 container ids',
    ),
    v.description('the containers the key may read or change: a list of ids, or "*" for all'),
  ),
  access: v.pipe(
    v.picklist(API_KEY_ACCESS, 'access must be "read" or "write"'),
    v.description('"read": status, report, logs; "write": also PUT, DELETE and replay of its containers'),
  ),
});

export type ApiKeyCreate = v.InferOutput<typeof ApiKeyCreateSchema>;

/** A page size given as a query string: `?limit=50`. */
export function limitParam(max: number, fallback: number) {
  return v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,6}$/, `limit must be a whole number from 1 to ${max}`),
      v.description(`page size, 1-${max} (default ${fallback})`),
      v.transform(Number),
      v.minValue(1, `limit must be a whole number from 1 to ${max}`),
      v.maxValue(max, `limit must be a whole number from 1 to ${max}`),
    ),
    String(fallback),
  );
}

export const AuditQuerySchema = v.strictObject({
  limit: limitParam(500, 100),
  cursor: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,15}$/, "cursor must be the cursor of a previous page"),
      v.description("the previous page's cursor"),
      v.transform(Number),
    ),
  ),
  container: v.optional(v.pipe(ContainerIdSchema, v.description("only entries about this container"))),
});

/** The most containers one page of GET /_edge/admin/containers lists (each costs one Durable Object call). */
export const MAX_CONTAINERS_PAGE = 100;

/** GET /_edge/admin/containers: `cursor` is the `next` of the previous page (a container id). */
export const ListContainersQuerySchema = v.strictObject({
  cursor: v.optional(v.pipe(v.string(), v.regex(CONTAINER_ID_OR_EMPTY, "cursor must be the next value of the previous page")), ""),
  limit: limitParam(MAX_CONTAINERS_PAGE, 50),
});
