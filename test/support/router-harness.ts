// Helpers for the router tests: containers seeded straight into the real (miniflare) KV maps, pointed at the real
// loopback upstream from router-origin.global.mjs, and a way to call the router that also captures the access
// records it hands to LOG_QUEUE.

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import * as v from "valibot";
import { inject } from "vitest";
import { entriesFor } from "../../durable/kv-sync";
import { AcceptedEdgeConfigSchema } from "../../schemas/accepted-edge-config";
import type { EdgeConfig, EdgeConfigInput } from "../../schemas/edge-config";
import type { AccessRecord, PackedLogMessage } from "../../schemas/log-record";
import { handleTraffic } from "../../workers/router/traffic";
import { edgeConfig } from "./fixtures";

declare module "vitest" {
  export interface ProvidedContext {
    routerOriginUrl: string;
    routerDeadUrl: string;
  }
}

export const originUrl = (): string => inject("routerOriginUrl");
export const deadUrl = (): string => inject("routerDeadUrl");

let counter = 0;

/** A container id no other test uses, so in-isolate caches and KV keys never leak between tests. */
export function uniqueId(prefix = "rt"): string {
  counter += 1;
  return `${prefix}-${counter}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Accepts the config and writes every KV entry of it, as the sync consumer would; returns the stored config. */
export async function seedContainer(overrides: Partial<EdgeConfigInput> = {}): Promise<EdgeConfig> {
  const containerId = overrides.containerId ?? uniqueId();
  const config = v.parse(AcceptedEdgeConfigSchema, edgeConfig({ upstream: originUrl(), ...overrides, containerId }));
  await Promise.all(entriesFor(config).map((entry) => env[entry.map].put(entry.key, entry.value)));
  return config;
}

export function encodeTarget(target: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(target)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export interface RecordingQueue {
  queue: Queue;
  /** Records the router sent, in order, unpacked from their messages. */
  records: AccessRecord[];
  /** The packed message bodies, in order. */
  messages: PackedLogMessage[];
  /** How many send/sendBatch calls delivered them. */
  calls: number;
}

/** A LOG_QUEUE stand-in that keeps what it is sent (or refuses everything, to test that logging cannot fail). */
export function recordingQueue(fail = false): RecordingQueue {
  const recording: RecordingQueue = { queue: undefined as unknown as Queue, records: [], messages: [], calls: 0 };
  const accept = (bodies: PackedLogMessage[]) => {
    if (fail) throw new Error("queue unavailable");
    recording.calls += 1;
    recording.messages.push(...bodies);
    // The recorder is typed for the router's access records; the loader's detection records travel the same way.
    recording.records.push(...bodies.flatMap((body) => body.records as AccessRecord[]));
  };
  recording.queue = {
    async send(body: PackedLogMessage) {
      accept([body]);
    },
    async sendBatch(messages: Iterable<{ body: PackedLogMessage }>) {
      accept([...messages].map((m) => m.body));
    },
  } as unknown as Queue;
  return recording;
}

export interface RouterCall {
  response: Response;
  /** Records the router sent to LOG_QUEUE (collected after every waitUntil settled). */
  records: AccessRecord[];
}

/**
 * Calls the router the way workers/index.ts does, with LOG_QUEUE replaced by a recorder. Everything else (KV,
 * the Durable Object, the upstream over the network) is real.
 */
export async function callRouter(request: Request, options: { failLogQueue?: boolean } = {}): Promise<RouterCall> {
  const log = recordingQueue(options.failLogQueue);
  const [response] = await callRouterWith(log, [request]);
  return { response: response!, records: log.records };
}

/**
 * Several requests at once against one recording queue; resolves after every waitUntil settled. `logWindowMs`
 * replaces the test window (vitest.config.ts) where a test needs every record inside one window.
 */
export async function callRouterWith(log: RecordingQueue, requests: Request[], logWindowMs?: number): Promise<Response[]> {
  const testEnv = { ...env, LOG_QUEUE: log.queue, ...(logWindowMs === undefined ? {} : { LOG_WINDOW_MS: String(logWindowMs) }) };
  const contexts = requests.map(() => createExecutionContext());
  const responses = await Promise.all(requests.map((request, i) => handleTraffic(request, testEnv, contexts[i]!, new URL(request.url))));
  await Promise.all(contexts.map((ctx) => waitOnExecutionContext(ctx)));
  return responses;
}

/** A session id the edge started on `host`, as a page gets it from /boot (detection records need one). */
export async function bootSession(host: string): Promise<string> {
  const { response } = await callRouter(routerRequest(host, "/boot", { method: "POST", body: '{"cookies":{}}' }));
  return ((await response.json()) as { sessionId: string }).sessionId;
}

/** GET/POST to the router on `host` (the URL's host; pass `headers.Host` to test header precedence). */
export function routerRequest(host: string, path: string, init: RequestInit = {}): Request {
  return new Request(`https://${host}${path}`, init);
}
