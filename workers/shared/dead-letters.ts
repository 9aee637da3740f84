// Dead letters: messages that exhausted their retries (or can never succeed) are kept in R2 so they can be
// inspected and replayed (POST /_edge/admin/replay {"deadLetters": true}).

export type DeadLetterQueue = "config" | "logs";

export const DEAD_LETTER_PREFIX = "dead-letters/";

export interface DeadLetter {
  queue: DeadLetterQueue;
  body: unknown;
  reason: string;
  failedAt: string;
}

export async function storeDeadLetter(
  env: Pick<Env, "LOG_BUCKET">,
  queue: DeadLetterQueue,
  id: string,
  body: unknown,
  reason: string,
): Promise<void> {
  const letter: DeadLetter = { queue, body, reason, failedAt: new Date().toISOString() };
  // Keyed by message id: a redelivered dead letter overwrites itself instead of piling up.
  await env.LOG_BUCKET.put(`${DEAD_LETTER_PREFIX}${queue}/${id}.json`, JSON.stringify(letter), {
    httpMetadata: { contentType: "application/json" },
  });
}

/** Consumer for a dead-letter queue: persist every message, then acknowledge the batch. */
export async function persistDeadLetterBatch(
  batch: MessageBatch<unknown>,
  env: Pick<Env, "LOG_BUCKET">,
  queue: DeadLetterQueue,
): Promise<void> {
  await Promise.all(batch.messages.map((m) => storeDeadLetter(env, queue, m.id, m.body, `exhausted ${m.attempts} attempts`)));
  batch.ackAll();
}

/** Re-sends every stored dead letter to its queue and removes it from R2 once sent. Returns the count. */
export async function replayDeadLetters(env: Pick<Env, "LOG_BUCKET" | "CONFIG_QUEUE" | "LOG_QUEUE">): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await env.LOG_BUCKET.list({ prefix: DEAD_LETTER_PREFIX, cursor, limit: 100 });
    const letters = await Promise.all(
      page.objects.map(async (object) => ({
        key: object.key,
        letter: (await (await env.LOG_BUCKET.get(object.key))?.json()) as DeadLetter | undefined,
      })),
    );
    for (const queue of ["config", "logs"] as const) {
      const bodies = letters.filter((l) => l.letter?.queue === queue).map((l) => ({ body: l.letter!.body }));
      if (bodies.length > 0) await (queue === "config" ? env.CONFIG_QUEUE : env.LOG_QUEUE).sendBatch(bodies);
    }
    // Delete only after the sends succeeded: a failed replay leaves the letters for the next one.
    await env.LOG_BUCKET.delete(letters.map((l) => l.key));
    count += letters.length;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return count;
}
