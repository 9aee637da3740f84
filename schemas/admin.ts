// Operator request bodies under /_edge/admin/.
import * as v from "valibot";
import { ContainerIdSchema } from "./fields";

export const ReplayBodySchema = v.union(
  [
    v.strictObject({ containerIds: v.pipe(v.array(ContainerIdSchema), v.minLength(1), v.maxLength(1000)) }),
    v.strictObject({ all: v.literal(true) }),
    v.strictObject({ deadLetters: v.literal(true) }),
  ],
  'body must be {"containerIds": [...]} (1-1000 ids), {"all": true} or {"deadLetters": true}',
);

export type ReplayBody = v.InferOutput<typeof ReplayBodySchema>;

/** The most containers one page of GET /_edge/admin/containers lists (each costs one Durable Object call). */
export const MAX_CONTAINERS_PAGE = 100;
const LIMIT_MESSAGE = `limit must be a whole number from 1 to ${MAX_CONTAINERS_PAGE}`;

/** GET /_edge/admin/containers: `cursor` is the `next` of the previous page (a container id). */
export const ListContainersQuerySchema = v.strictObject({
  cursor: v.optional(v.pipe(v.string(), v.regex(/^([a-z0-9][a-z0-9_-]{2,63})?$/, "cursor must be the next value of the previous page")), ""),
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,3}$/, LIMIT_MESSAGE),
      v.transform(Number),
      v.minValue(1, LIMIT_MESSAGE),
      v.maxValue(MAX_CONTAINERS_PAGE, LIMIT_MESSAGE),
    ),
    "50",
  ),
});

export type ListContainersQuery = v.InferOutput<typeof ListContainersQuerySchema>;
