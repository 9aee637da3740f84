// Counters on a Worker's bindings, for the cost model (bench/cost.mjs): every billable operation the real Worker
// code makes on KV, Queues, R2, Analytics Engine and Durable Objects is counted on its way to the real (miniflare)
// binding, and every invocation of the Worker itself. Bundled into the bench entries bench/cost-edge-worker.ts and
// bench/cost-control-worker.ts; `GET /__cost/counts` answers the isolate's counts, `DELETE /__cost/counts` resets
// them (neither is counted).

/** Cloudflare bills Queues per 64 KB (1 KB = 1,000 bytes) written, read or deleted, with ~100 bytes of metadata. */
const QUEUE_UNIT_BYTES = 64_000;
const QUEUE_METADATA_BYTES = 100;

const KV_BINDINGS = ["ROUTING_MAP", "EDGE_CONFIG", "LOADER_TOKEN_MAP", "SITE_REGISTRY", "COOKIE_VAULT"];
const QUEUE_BINDINGS = ["LOG_QUEUE", "CONFIG_QUEUE"];
const R2_BINDINGS = ["LOG_BUCKET"];
const AE_BINDINGS = ["ACCESS_ANALYTICS", "SESSION_ANALYTICS"];
const DO_BINDINGS = ["CONTAINER_STATE", "ANALYTICS_WINDOW"];

/** R2's operation classes (https://developers.cloudflare.com/r2/pricing/): deletes are free. */
const R2_CLASS: Record<string, "classA" | "classB" | "free"> = {
  put: "classA",
  list: "classA",
  createMultipartUpload: "classA",
  resumeMultipartUpload: "classA",
  get: "classB",
  head: "classB",
  delete: "free",
};

type AnyFunction = (...args: unknown[]) => unknown;

/** The entry of `record` under `key`, created from `empty` on first use. */
function entry<T>(record: Record<string, T>, key: string, empty: () => T): T {
  record[key] ??= empty();
  return record[key];
}

interface Counts {
  fetch: number;
  /** Queue consumer invocations by queue name. */
  queueInvocations: Record<string, number>;
  kv: Record<string, { read: number; write: number; delete: number; list: number }>;
  /** Producer side, by binding: sendBatch/send calls, messages, billed 64 KB units, and records per message. */
  queueSent: Record<string, { calls: number; messages: number; units: number; recordsPerMessage: number[]; recordsPerCall: number[] }>;
  /** Consumer side, by queue name: messages delivered (read) and deleted (acknowledged), in messages and units. */
  queueRead: Record<string, { messages: number; units: number }>;
  queueDeleted: Record<string, { messages: number; units: number }>;
  r2: Record<string, { classA: number; classB: number; free: number }>;
  analyticsPoints: Record<string, number>;
  durableObjectRequests: Record<string, number>;
  /** Alarm invocations by Durable Object class: each is billed as a request. */
  durableObjectAlarms: Record<string, number>;
}

function emptyCounts(): Counts {
  return {
    fetch: 0,
    queueInvocations: {},
    kv: {},
    queueSent: {},
    queueRead: {},
    queueDeleted: {},
    r2: {},
    analyticsPoints: {},
    durableObjectRequests: {},
    durableObjectAlarms: {},
  };
}

// One set of counters per isolate: the Worker's fetch and queue handlers and its Durable Objects share it.
let counts = emptyCounts();

const encoder = new TextEncoder();

function queueUnits(body: unknown): number {
  const bytes = encoder.encode(typeof body === "string" ? body : (JSON.stringify(body) ?? "")).byteLength;
  return Math.ceil((bytes + QUEUE_METADATA_BYTES) / QUEUE_UNIT_BYTES);
}

/** Records in a LOG_QUEUE body: a packed message's records, or 1 for a bare record. */
function recordsIn(body: unknown): number {
  const records = (body as { records?: unknown } | null)?.records;
  return Array.isArray(records) ? records.length : 1;
}

/**
 * `fn` bound to `self`, without touching `fn`'s own properties: on a Durable Object stub every property access
 * (`.apply`, `.bind` included) is itself a remote method.
 */
const bound =
  (fn: AnyFunction, self: object) =>
  (...args: unknown[]) =>
    Reflect.apply(fn, self, args);

/** A proxy that calls `count(method, args)` before each call of a method named in `methods`. */
function counting<T extends object>(target: T, methods: readonly string[], count: (method: string, args: unknown[]) => void): T {
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== "function") return value;
      if (typeof property === "string" && methods.includes(property)) {
        return (...args: unknown[]) => {
          count(property, args);
          return Reflect.apply(value as AnyFunction, object, args);
        };
      }
      return bound(value as AnyFunction, object);
    },
  });
}

function spyKv(name: string, kv: object): object {
  return counting(kv, ["get", "getWithMetadata", "put", "delete", "list"], (method, args) => {
    const c = entry(counts.kv, name, () => ({ read: 0, write: 0, delete: 0, list: 0 }));
    // KV bills a multi-key get per key.
    if (method === "get" || method === "getWithMetadata") c.read += Array.isArray(args[0]) ? args[0].length : 1;
    else if (method === "put") c.write += 1;
    else if (method === "delete") c.delete += 1;
    else c.list += 1;
  });
}

function spyQueue(name: string, queue: object): object {
  return counting(queue, ["send", "sendBatch"], (method, args) => {
    const c = entry(counts.queueSent, name, () => ({ calls: 0, messages: 0, units: 0, recordsPerMessage: [], recordsPerCall: [] }));
    const bodies = method === "send" ? [args[0]] : [...(args[0] as Iterable<{ body: unknown }>)].map((m) => m.body);
    c.calls += 1;
    c.messages += bodies.length;
    c.units += bodies.reduce((sum: number, body) => sum + queueUnits(body), 0);
    c.recordsPerMessage.push(...bodies.map(recordsIn));
    c.recordsPerCall.push(bodies.reduce((sum: number, body) => sum + recordsIn(body), 0));
  });
}

function spyR2(name: string, bucket: object): object {
  return counting(bucket, Object.keys(R2_CLASS), (method) => {
    const c = entry(counts.r2, name, () => ({ classA: 0, classB: 0, free: 0 }));
    const kind = R2_CLASS[method];
    if (kind) c[kind] += 1;
  });
}

function spyAnalytics(name: string, dataset: object): object {
  return counting(dataset, ["writeDataPoint"], () => {
    counts.analyticsPoints[name] = (counts.analyticsPoints[name] ?? 0) + 1;
  });
}

/** Every call on a Durable Object stub (an RPC method or fetch) is one billed request. */
function spyDurableObjects(name: string, namespace: DurableObjectNamespace): object {
  const countRequest = () => {
    counts.durableObjectRequests[name] = (counts.durableObjectRequests[name] ?? 0) + 1;
  };
  return new Proxy(namespace, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== "function") return value;
      if (property !== "get" && property !== "getByName") return bound(value as AnyFunction, object);
      return (...args: unknown[]) => {
        const stub = Reflect.apply(value as AnyFunction, object, args) as object;
        return new Proxy(stub, {
          get(target, key) {
            const member: unknown = Reflect.get(target, key, target);
            if (typeof member !== "function" || key === "then") return member;
            return (...callArgs: unknown[]) => {
              countRequest();
              return Reflect.apply(member as AnyFunction, target, callArgs);
            };
          },
        });
      };
    },
  });
}

// One spy per binding object: code that keys state on a binding's identity (the log window keys its buffer on
// LOG_QUEUE) must see the same object on every request, as it does without spies.
const spies = new WeakMap<object, object>();

function spyOnce(binding: object, make: (binding: object) => object): object {
  if (!spies.has(binding)) spies.set(binding, make(binding));
  return spies.get(binding) as object;
}

/** Counts an alarm invocation of a Durable Object class (its bench subclass calls this). */
export function countAlarm(className: string): void {
  counts.durableObjectAlarms[className] = (counts.durableObjectAlarms[className] ?? 0) + 1;
}

/** The Worker's env with every billable binding counted. */
export function spyEnv<E extends object>(env: E): E {
  const source = env as Record<string, object>;
  const spied: Record<string, unknown> = { ...source };
  const wrap = (names: string[], make: (name: string, binding: object) => object) => {
    for (const name of names) if (source[name]) spied[name] = spyOnce(source[name], (binding) => make(name, binding));
  };
  wrap(KV_BINDINGS, spyKv);
  wrap(QUEUE_BINDINGS, spyQueue);
  wrap(R2_BINDINGS, spyR2);
  wrap(AE_BINDINGS, spyAnalytics);
  wrap(DO_BINDINGS, (name, binding) => spyDurableObjects(name, binding as DurableObjectNamespace));
  return spied as E;
}

/**
 * A consumer batch whose acknowledgements are tracked: Queues deletes every message that is not retried (an
 * explicit ack, or the handler returning), and reads a retried message again on its next delivery.
 */
function trackedBatch(batch: MessageBatch<unknown>, retried: Set<string>): MessageBatch<unknown> {
  const messages = batch.messages.map((message) =>
    counting(message, ["retry"], () => {
      retried.add(message.id);
    }),
  );
  return new Proxy(batch, {
    get(object, property) {
      if (property === "messages") return messages;
      const value: unknown = Reflect.get(object, property, object);
      if (property === "retryAll") {
        return (...args: unknown[]) => {
          for (const message of batch.messages) retried.add(message.id);
          return Reflect.apply(value as AnyFunction, object, args);
        };
      }
      return typeof value === "function" ? bound(value as AnyFunction, object) : value;
    },
  });
}

function countsResponse(request: Request): Response | null {
  if (new URL(request.url).pathname !== "/__cost/counts") return null;
  if (request.method === "DELETE") counts = emptyCounts();
  return Response.json(counts);
}

/** Wraps a Worker's handlers: invocations counted, env spied, `/__cost/counts` answered. */
export function spyWorker<E extends object>(handler: ExportedHandler<E>): ExportedHandler<E> {
  const spied: ExportedHandler<E> = { ...handler };
  if (handler.fetch) {
    const fetch = handler.fetch.bind(handler);
    spied.fetch = (request, env, ctx) => {
      const answer = countsResponse(request as unknown as Request);
      if (answer) return answer;
      counts.fetch += 1;
      return fetch(request, spyEnv(env), ctx);
    };
  }
  if (handler.queue) {
    const queue = handler.queue.bind(handler);
    spied.queue = async (batch, env, ctx) => {
      counts.queueInvocations[batch.queue] = (counts.queueInvocations[batch.queue] ?? 0) + 1;
      const units = batch.messages.map((message) => queueUnits(message.body));
      const read = entry(counts.queueRead, batch.queue, () => ({ messages: 0, units: 0 }));
      read.messages += batch.messages.length;
      read.units += units.reduce((a, b) => a + b, 0);
      const retried = new Set<string>();
      try {
        await queue(trackedBatch(batch, retried), spyEnv(env), ctx);
      } catch (error) {
        for (const message of batch.messages) retried.add(message.id);
        throw error;
      } finally {
        const deleted = entry(counts.queueDeleted, batch.queue, () => ({ messages: 0, units: 0 }));
        batch.messages.forEach((message, i) => {
          if (retried.has(message.id)) return;
          deleted.messages += 1;
          deleted.units += units[i] ?? 0;
        });
      }
    };
  }
  return spied;
}
