// Control-Worker-only: the operator API with CONFIG_QUEUE replaced by a recorder, so the test hands the queued
// messages to the real queue handler (deliver) exactly when it wants, instead of racing the local queue's consumer.

import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { EdgeConfigInput } from "../../schemas/edge-config";
import { edgeApi } from "../../workers/admin/api";
import { QUEUES } from "../../workers/shared/queues";
import { deliver } from "./control-pipeline";
import { ADMIN } from "./fixtures";
import { OPERATOR_ORIGIN } from "./pipeline";

export interface OperatorCall {
  response: Response;
  /** Bodies the call put on CONFIG_QUEUE. */
  queued: unknown[];
}

export async function operator(path: string, init: RequestInit = {}, envOverrides: Partial<Env> = {}): Promise<OperatorCall> {
  const queued: unknown[] = [];
  const recorder = {
    async send(body: unknown) {
      queued.push(body);
    },
    async sendBatch(messages: Iterable<{ body: unknown }>) {
      for (const message of messages) queued.push(message.body);
    },
  } as unknown as Queue;
  const request = new Request(`${OPERATOR_ORIGIN}${path}`, {
    ...init,
    headers: { ...ADMIN, "Content-Type": "application/json", ...(init.headers ?? {}) },
  });
  const response = await edgeApi.fetch(request, { ...env, ...envOverrides, CONFIG_QUEUE: recorder }, createExecutionContext());
  return { response, queued };
}

/**
 * The Supabase Database Webhook an `edge_outbox` insert sends for (container, version), signed with the test secret;
 * `supabaseEnv`: the env of a Supabase stand-in that answers the config read.
 */
export function outboxWebhook(containerId: string, version: number, supabaseEnv: Partial<Env>): Promise<OperatorCall> {
  const payload = {
    type: "INSERT",
    table: "edge_outbox",
    schema: "public",
    record: { id: version, container_id: containerId, config_version: version, op: "upsert" },
    old_record: null,
  };
  return operator(
    "/_edge/hooks/supabase",
    { method: "POST", headers: { "X-Webhook-Secret": "test-webhook-secret" }, body: JSON.stringify(payload) },
    supabaseEnv,
  );
}

/** `vars`: env overrides for this call (PLATFORM_DOMAINS, for a test about the registry rather than the host rules). */
export function operatorPut(config: EdgeConfigInput, vars: Partial<Env> = {}): Promise<OperatorCall> {
  return operator(`/_edge/admin/containers/${config.containerId}`, { method: "PUT", body: JSON.stringify(config) }, vars);
}

export function operatorDelete(containerId: string): Promise<OperatorCall> {
  return operator(`/_edge/admin/containers/${containerId}`, { method: "DELETE" });
}

/** Delivers what an operator call queued to the real config consumer (`vars`: as the PUT's, for the consumer's host rules). */
export function deliverQueued(call: OperatorCall, vars: Partial<Env> = {}) {
  return deliver(QUEUES.config, call.queued, vars);
}

/** PUT and apply: the config is live in KV afterwards (throws when the PUT was refused). */
export async function putAndApply(config: EdgeConfigInput, vars: Partial<Env> = {}): Promise<void> {
  const call = await operatorPut(config, vars);
  if (call.response.status !== 202) throw new Error(`PUT ${config.containerId}: ${call.response.status} ${await call.response.text()}`);
  const result = await deliverQueued(call, vars);
  if (result.explicitAcks.length !== call.queued.length) throw new Error(`apply ${config.containerId} was not acknowledged`);
}
