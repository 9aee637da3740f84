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
