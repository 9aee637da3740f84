// Operator endpoints under the reserved /_edge/ prefix (CONTRACT.md "Control plane and repair").
import { Router, type IRequest } from "itty-router";
import * as v from "valibot";
import { ListContainersQuerySchema, ReplayBodySchema } from "../../schemas/admin";
import type { UpsertMessage } from "../../schemas/config-message";
import { AcceptedEdgeConfigSchema } from "../../schemas/accepted-edge-config";
import { upstreamAllowed } from "../../schemas/edge-config";
import { ContainerIdSchema } from "../../schemas/fields";
import { WebhookPayloadSchema } from "../../schemas/supabase-webhook";
import { containerStub, type RecordResult } from "../../durable/container-state";
import { conflictMessage, routingNames } from "../../durable/routing-keys";
import { registryStub } from "../../durable/routing-registry";
import { requireBearer, requireSecret } from "../shared/auth";
import { parseWith, readJsonBody } from "../shared/body";
import { EdgeError, errorResponse, jsonResponse } from "../shared/errors";
import { replayDeadLetters } from "../shared/dead-letters";
import { dashboardHandler, reportHandler } from "../log-consumer/routes";
import { deleteThresholdsHandler, listAlertsHandler, putThresholdsHandler } from "../alerts/routes";
import { hostParam, liveNowParam, putHostname, removeHostname, showHostname } from "./custom-hostnames";
import { enqueueVersioned, replayContainers } from "./enqueue";
import { markOutboxDelivered } from "../shared/outbox";
import { supabaseConfigured } from "../shared/postgrest";
import { messageFromWebhook, outboxIdFromWebhook, withClaimableConfig } from "./webhook";

type Args = [Env, ExecutionContext];

/** EdgeConfig bodies may list many hosts; everything else is small. */
const CONFIG_BODY_LIMIT = 64 * 1024;

function containerIdParam(request: IRequest): string {
  let id: string;
  try {
    id = decodeURIComponent(request.params.id ?? "");
  } catch {
    // A malformed percent-escape (%ff) is the client's mistake like any other bad id.
    id = "";
  }
  if (!v.is(ContainerIdSchema, id)) {
    throw new EdgeError(400, "invalid_container_id", "container id must match ^[a-z0-9][a-z0-9_-]{2,63}$");
  }
  return id;
}

/** 409 for a version the object refuses: not newer than the applied one, or routing another container's key. */
function refusal(result: Exclude<RecordResult, { status: "accepted" }>, version: number): EdgeError {
  if (result.status === "conflict") return new EdgeError(409, "key_conflict", conflictMessage(result.conflict));
  return new EdgeError(409, "stale_version", `version ${version} is not newer than applied version ${result.appliedVersion}`);
}

export const edgeApi = Router<IRequest, Args>({
  catch: (error) => errorResponse(error),
  finally: [(response) => response ?? jsonResponse({ error: "not_found", message: "no such endpoint" }, 404)],
});

edgeApi
  .get("/_edge/health", () => jsonResponse({ ok: true }))

  .post("/_edge/hooks/supabase", async (request, env, ctx) => {
    await requireSecret(request.headers.get("X-Webhook-Secret"), env.WEBHOOK_SECRET, "X-Webhook-Secret");
    const payload = await readJsonBody(request, WebhookPayloadSchema);
    const { message, names } = await withClaimableConfig(env, messageFromWebhook(payload));
    const result = await enqueueVersioned(env, message, names);
    // A takeover is refused like a PUT's, and its outbox row stays unacknowledged: the sweeper then queues it without
    // a claim, the consumer's apply refuses it, and the container's status shows lastError naming the owner.
    if (result.status === "conflict") throw refusal(result, message.version);
    // The change is on the queue (or was applied before, a stale row): acknowledge the outbox row so the sweeper
    // skips it. After the answer: pg_net gives the webhook 5 s, and a failed acknowledgement only costs a redundant sweep.
    const outboxId = outboxIdFromWebhook(payload);
    if (outboxId !== null && supabaseConfigured(env)) {
      ctx.waitUntil(
        markOutboxDelivered(env, [outboxId]).catch((error) =>
          console.error(JSON.stringify({ event: "outbox_ack_failed", outboxId, error: String(error) })),
        ),
      );
    }
    return jsonResponse({ containerId: message.containerId, version: message.version, enqueued: result.status === "accepted" }, 202);
  })

  .get("/_edge/config/:id", async (request, env) => {
    await requireSecret(request.headers.get("X-Edge-Auth"), env.EDGE_AUTH_SECRET, "X-Edge-Auth");
    const id = containerIdParam(request);
    const config = await containerStub(env, id).appliedConfig(id);
    if (!config) throw new EdgeError(404, "not_found", `no applied config for ${id}`);
    return jsonResponse(config);
  })

  // The dashboard page carries no data and no secret; it asks for the token and sends it to /report itself.
  .get("/_edge/admin/dashboard", dashboardHandler)

  // Everything below needs the operator's bearer token.
  .all("/_edge/admin/*", (request, env) => requireBearer(request, env.ADMIN_TOKEN).then(() => undefined))

  .put("/_edge/admin/containers/:id", async (request, env) => {
    const id = containerIdParam(request);
    // Accepted in full here (public-suffix hosts refused with 400), though the consumer derives the stored form again.
    const config = await readJsonBody(request, AcceptedEdgeConfigSchema, CONFIG_BODY_LIMIT);
    if (config.containerId !== id) {
      throw new EdgeError(400, "invalid_body", `invalid body: containerId "${config.containerId}" does not match the path "${id}"`);
    }
    if (!upstreamAllowed(config, env.ALLOW_INSECURE_UPSTREAM)) {
      throw new EdgeError(400, "invalid_body", "invalid body: upstream must be https");
    }
    // The message carries what was submitted; derived fields are the consumer's to add.
    const { cookieDomains: _derived, ...submitted } = config;
    const message: UpsertMessage = { type: "upsert", containerId: id, version: config.version, config: submitted, source: "admin" };
    const result = await enqueueVersioned(env, message, routingNames(config));
    if (result.status !== "accepted") throw refusal(result, config.version);
    return jsonResponse({ containerId: id, version: config.version, enqueued: true }, 202);
  })

  .get("/_edge/admin/containers", async (request, env) => {
    const query = parseWith(ListContainersQuerySchema, Object.fromEntries(new URL(request.url).searchParams), "query");
    const page = await registryStub(env).list(query.cursor, query.limit);
    const containers = await Promise.all(
      page.containers.map(async ({ containerId, infraHosts, publicHosts }) => ({
        containerId,
        status: await containerStub(env, containerId).status(containerId),
        infraHosts,
        publicHosts,
      })),
    );
    return jsonResponse({ containers, next: page.next });
  })

  .delete("/_edge/admin/containers/:id", async (request, env) => {
    const id = containerIdParam(request);
    const message = await containerStub(env, id).requestDelete(id);
    if (!message) throw new EdgeError(404, "not_found", `container ${id} has never been configured or is already deleted`);
    await env.CONFIG_QUEUE.send(message);
    return jsonResponse({ containerId: id, version: message.version, enqueued: true }, 202);
  })

  .get("/_edge/admin/containers/:id/status", async (request, env) => {
    const id = containerIdParam(request);
    const status = await containerStub(env, id).status(id);
    if (!status) throw new EdgeError(404, "not_found", `container ${id} has never been configured`);
    return jsonResponse(status);
  })

  // Customer domains (custom-hostnames.ts, docs/custom-domains.md).
  .put("/_edge/admin/containers/:id/hostnames/:host", async (request, env) => {
    const id = containerIdParam(request);
    const { view, created } = await putHostname(env, id, hostParam(request.params.host), liveNowParam(request.query.live));
    return jsonResponse(view, created ? 201 : 200);
  })

  .get("/_edge/admin/containers/:id/hostnames/:host", async (request, env) =>
    jsonResponse(await showHostname(env, containerIdParam(request), hostParam(request.params.host))),
  )

  .delete("/_edge/admin/containers/:id/hostnames/:host", async (request, env) =>
    jsonResponse(await removeHostname(env, containerIdParam(request), hostParam(request.params.host))),
  )

  .post("/_edge/admin/replay", async (request, env) => {
    const body = await readJsonBody(request, ReplayBodySchema);
    const count =
      "deadLetters" in body ? await replayDeadLetters(env) : await replayContainers(env, "all" in body ? "all" : body.containerIds);
    return jsonResponse({ enqueued: count }, 202);
  })

  .get("/_edge/admin/report", reportHandler)

  .get("/_edge/admin/alerts", listAlertsHandler)
  .put("/_edge/admin/alerts/thresholds/:id", putThresholdsHandler)
  .delete("/_edge/admin/alerts/thresholds/:id", deleteThresholdsHandler);
