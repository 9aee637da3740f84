// Operator endpoints under the reserved /_edge/ prefix (CONTRACT.md "Control plane and repair"; docs/operate.md).
// Every route here is described in workers/admin/openapi.ts; a test compares the two.
import { type IRequest, Router } from "itty-router";
import * as v from "valibot";
import { containerStub } from "../../durable/container-state";
import { operatorAccess } from "../../durable/operator-access";
import { conflictMessage, routingNames } from "../../durable/routing-keys";
import { registryStub } from "../../durable/routing-registry";
import { AcceptedEdgeConfigSchema } from "../../schemas/accepted-edge-config";
import { ApiKeyCreateSchema, AuditQuerySchema, ListContainersQuerySchema, ReplayBodySchema } from "../../schemas/admin";
import type { UpsertMessage } from "../../schemas/config-message";
import { configWarnings, upstreamAllowed } from "../../schemas/edge-config";
import { ContainerIdSchema, containerIdRule } from "../../schemas/fields";
import { ScheduledRunQuerySchema } from "../../schemas/scheduled";
import { WebhookPayloadSchema } from "../../schemas/supabase-webhook";
import { deleteThresholdsHandler, listAlertsHandler, putThresholdsHandler } from "../alerts/routes";
import { dashboardHandler, fleetHandler, logsHandler, reportHandler } from "../reports/routes";
import { runCron } from "../scheduled";
import { requireSecret } from "../shared/auth";
import { parseQuery, readJsonBody } from "../shared/body";
import { replayDeadLetters } from "../shared/dead-letters";
import { EdgeError, errorResponse, jsonResponse } from "../shared/errors";
import { checkHostRules } from "../shared/host-rules";
import { markOutboxDelivered } from "../shared/outbox";
import { supabaseConfigured } from "../shared/postgrest";
import { authenticate, authorize, createApiKey, isKeyId, type OperatorRequest, readScope } from "./access";
import { auditWrites } from "./audit";
import { hostParam, liveNowParam, putHostname, removeHostname, showHostname } from "./custom-hostnames";
import { acceptedEver, enqueueChange, enqueueVersioned, replayContainers } from "./enqueue";
import { openApiDocument } from "./openapi";
import { limitRefusals, refusedTooOften } from "./refusal-limit";
import { messageFromWebhook, outboxIdFromWebhook, withClaimableConfig } from "./webhook";

type Args = [Env, ExecutionContext];

/** EdgeConfig bodies may list many hosts; everything else is small. */
const CONFIG_BODY_LIMIT = 64 * 1024;

/**
 * Every path segment must be valid percent-encoding (`%ff` is not): checked once, before any route, so no handler
 * meets a URIError (a 500) when it decodes its parameters.
 */
function checkPathSegments(request: IRequest): undefined {
  for (const segment of new URL(request.url).pathname.split("/")) {
    try {
      decodeURIComponent(segment);
    } catch {
      const shown = segment.length > 64 ? `${segment.slice(0, 64)}…` : segment;
      throw new EdgeError(400, "invalid_path", `the path segment "${shown}" is not valid percent-encoding`);
    }
  }
  return undefined;
}

/** A path parameter, decoded (checkPathSegments has made sure it can be). */
function decodedParam(request: IRequest, name: string): string {
  return decodeURIComponent(request.params[name] ?? "");
}

function containerIdParam(request: IRequest): string {
  const id = decodedParam(request, "id");
  if (!v.is(ContainerIdSchema, id)) {
    throw new EdgeError(400, "invalid_container_id", containerIdRule("container id"));
  }
  return id;
}

/** The container of a container route, checked against the caller's scope and noted for the audit log. */
function containerFor(request: OperatorRequest, access: "read" | "write"): string {
  const id = containerIdParam(request);
  request.audit = { ...request.audit, containerId: id };
  authorize(request, access, [id]);
  return id;
}

export const edgeApi = Router<OperatorRequest, Args>({
  catch: (error) => errorResponse(error),
  finally: [(response) => response ?? jsonResponse({ error: "not_found", message: "no such endpoint" }, 404), limitRefusals, auditWrites],
});

edgeApi
  .all("/_edge/*", checkPathSegments)

  .get("/_edge/health", () => jsonResponse({ ok: true }))

  .get("/_edge/openapi.json", (request) => jsonResponse(openApiDocument(new URL(request.url).origin)))

  .post("/_edge/hooks/supabase", async (request, env, ctx) => {
    await requireSecret(request.headers.get("X-Webhook-Secret"), env.WEBHOOK_SECRET, "X-Webhook-Secret");
    request.principal = { kind: "webhook" };
    const payload = await readJsonBody(request, WebhookPayloadSchema);
    const { message, names } = await withClaimableConfig(env, messageFromWebhook(payload));
    request.audit = { containerId: message.containerId, detail: `${message.type} v${message.version}` };
    const result = await enqueueVersioned(env, message, names);
    // A takeover is refused like a PUT's, and its outbox row stays unacknowledged: the sweeper then queues it without
    // a claim, the consumer's apply refuses it, and the container's status shows lastError naming the owner.
    if (result.status === "conflict") throw new EdgeError(409, "key_conflict", conflictMessage(result.conflict));
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

  // Runs what one Cron Trigger runs, now: the local run has no Cron Triggers and fires them through here on their
  // schedules (scripts/platform.mjs), and a person may too. The internal secret, as for the config read, and no audit
  // line: every job is idempotent and runs every few minutes anyway.
  .post("/_edge/scheduled", async (request, env) => {
    await requireSecret(request.headers.get("X-Edge-Auth"), env.EDGE_AUTH_SECRET, "X-Edge-Auth");
    const { cron } = parseQuery(ScheduledRunQuerySchema, request.url);
    const scheduledTime = Date.now();
    return jsonResponse({ cron, scheduledTime: new Date(scheduledTime).toISOString(), results: await runCron(env, cron, scheduledTime) });
  })

  // The dashboard page carries no data and no secret; it asks for the token and sends it to the API itself.
  .get("/_edge/admin/dashboard", dashboardHandler)

  // Everything below needs the admin token or an API key (Authorization: Bearer …); a caller past the limit of
  // refused calls is answered 429 before its credential is checked (refusal-limit.ts).
  .all("/_edge/admin/*", (request, env) => refusedTooOften(request) ?? authenticate(request, env).then(() => undefined))

  .put("/_edge/admin/containers/:id", async (request, env) => {
    const id = containerFor(request, "write");
    // Accepted in full here (public-suffix hosts refused with 400), though the consumer derives the stored form again.
    const config = await readJsonBody(request, AcceptedEdgeConfigSchema, CONFIG_BODY_LIMIT);
    request.audit = { containerId: id, detail: `version ${config.version}` };
    if (config.containerId !== id) {
      throw new EdgeError(400, "invalid_body", `invalid body: containerId "${config.containerId}" does not match the path "${id}"`);
    }
    if (!upstreamAllowed(config, env.ALLOW_INSECURE_UPSTREAM)) {
      throw new EdgeError(400, "invalid_body", "invalid body: upstream must be https");
    }
    checkHostRules(env, config);
    // The message carries what was submitted; derived fields are the consumer's to add.
    const { cookieDomains: _derived, ...submitted } = config;
    const message: UpsertMessage = { type: "upsert", containerId: id, version: config.version, config: submitted, source: "admin" };
    const enqueued = await enqueueChange(env, message, routingNames(config));
    return jsonResponse({ containerId: id, version: config.version, enqueued, warnings: configWarnings(config) }, 202);
  })

  .get("/_edge/admin/containers/:id", async (request, env) => {
    const id = containerFor(request, "read");
    const accepted = (await acceptedEver(env, id)) ? await containerStub(env, id).acceptedConfig() : null;
    if (!accepted) throw new EdgeError(404, "not_found", `container ${id} has never been configured`);
    if (accepted.config === null) {
      throw new EdgeError(
        404,
        "not_found",
        `container ${id} is deleted (version ${accepted.version}); PUT a newer version to bring it back`,
      );
    }
    const { version, config, appliedVersion } = accepted;
    return jsonResponse({ containerId: id, version, appliedVersion, inSync: appliedVersion >= version, config });
  })

  .get("/_edge/admin/containers", async (request, env) => {
    const query = parseQuery(ListContainersQuerySchema, request.url);
    const scope = readScope(request);
    const page = await registryStub(env).list(query.cursor, query.limit, scope === "*" ? undefined : scope);
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
    const id = containerFor(request, "write");
    const message = (await acceptedEver(env, id)) ? await containerStub(env, id).requestDelete(id) : null;
    if (!message) throw new EdgeError(404, "not_found", `container ${id} has never been configured or is already deleted`);
    request.audit = { containerId: id, detail: `delete as version ${message.version}` };
    await env.CONFIG_QUEUE.send(message);
    return jsonResponse({ containerId: id, version: message.version, enqueued: true }, 202);
  })

  .get("/_edge/admin/containers/:id/status", async (request, env) => {
    const id = containerFor(request, "read");
    const status = (await acceptedEver(env, id)) ? await containerStub(env, id).status(id) : null;
    if (!status) throw new EdgeError(404, "not_found", `container ${id} has never been configured`);
    return jsonResponse(status);
  })

  // Customer domains (custom-hostnames.ts, docs/custom-domains.md).
  .put("/_edge/admin/containers/:id/hostnames/:host", async (request, env) => {
    const id = containerFor(request, "write");
    const liveNow = liveNowParam(request.query.live);
    // Going live without Cloudflare's proof of ownership is the platform operator's call, not a tenant's.
    if (liveNow) authorize(request, "write", "*");
    const { view, created } = await putHostname(env, id, hostParam(request.params.host), liveNow);
    return jsonResponse(view, created ? 201 : 200);
  })

  .get("/_edge/admin/containers/:id/hostnames/:host", async (request, env) =>
    jsonResponse(await showHostname(env, containerFor(request, "read"), hostParam(request.params.host))),
  )

  .delete("/_edge/admin/containers/:id/hostnames/:host", async (request, env) =>
    jsonResponse(await removeHostname(env, containerFor(request, "write"), hostParam(request.params.host))),
  )

  .post("/_edge/admin/replay", async (request, env) => {
    const body = await readJsonBody(request, ReplayBodySchema);
    if ("containerIds" in body) {
      authorize(request, "write", body.containerIds);
      request.audit = {
        containerId: body.containerIds.length === 1 ? body.containerIds[0]! : null,
        detail: `containers ${body.containerIds.join(", ")}`,
      };
      return jsonResponse(await replayContainers(env, body.containerIds), 202);
    }
    authorize(request, "write", "admin");
    request.audit = { detail: "deadLetters" in body ? "dead letters" : "all containers" };
    const replayed = "deadLetters" in body ? { enqueued: await replayDeadLetters(env), skipped: 0 } : await replayContainers(env, "all");
    return jsonResponse(replayed, 202);
  })

  .get("/_edge/admin/report", reportHandler)

  .get("/_edge/admin/logs", logsHandler)

  .get("/_edge/admin/fleet", fleetHandler)

  .post("/_edge/admin/keys", async (request, env) => {
    authorize(request, "write", "admin");
    const body = await readJsonBody(request, ApiKeyCreateSchema);
    const created = await createApiKey(env, body);
    request.audit = {
      detail: `created key ${created.id} "${created.name}" (${created.access} on ${created.containers === "*" ? "all containers" : created.containers.join(", ")})`,
    };
    return jsonResponse(created, 201);
  })

  .get("/_edge/admin/keys", async (request, env) => {
    authorize(request, "read", "admin");
    return jsonResponse({ keys: await operatorAccess(env).listKeys() });
  })

  .delete("/_edge/admin/keys/:keyId", async (request, env) => {
    authorize(request, "write", "admin");
    const keyId = decodedParam(request, "keyId");
    request.audit = { detail: `revoked key ${keyId}` };
    const key = isKeyId(keyId) ? await operatorAccess(env).revokeKey(keyId) : null;
    if (!key) throw new EdgeError(404, "not_found", `no API key ${keyId}`);
    return jsonResponse(key);
  })

  .get("/_edge/admin/audit", async (request, env) => {
    authorize(request, "read", "admin");
    const query = parseQuery(AuditQuerySchema, request.url);
    return jsonResponse(await operatorAccess(env).listAudit({ limit: query.limit, before: query.cursor, containerId: query.container }));
  })

  // Alerts (workers/alerts/routes.ts, docs/alerts.md): thresholds per container; the list covers every container
  // the caller may read.
  .get("/_edge/admin/alerts", (request, env) => listAlertsHandler(env, readScope(request)))
  .put("/_edge/admin/alerts/thresholds/:id", (request, env) => {
    containerFor(request, "write");
    return putThresholdsHandler(request, env);
  })
  .delete("/_edge/admin/alerts/thresholds/:id", (request, env) => {
    containerFor(request, "write");
    return deleteThresholdsHandler(request, env);
  });
