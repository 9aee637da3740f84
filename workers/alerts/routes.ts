// Operator endpoints for alerts (registered in workers/admin/api.ts, behind the bearer token):
//   GET    /_edge/admin/alerts                        open and recently resolved alerts, thresholds in force
//   PUT    /_edge/admin/alerts/thresholds/:id         body: any subset of the thresholds for one container
//   DELETE /_edge/admin/alerts/thresholds/:id         back to the defaults
import type { IRequest } from "itty-router";
import * as v from "valibot";
import { alertStub } from "../../durable/alert-state";
import { ThresholdsOverrideSchema } from "../../schemas/alerts";
import { ContainerIdSchema, containerIdRule } from "../../schemas/fields";
import { readJsonBody } from "../shared/body";
import { EdgeError, jsonResponse } from "../shared/errors";

function containerId(request: IRequest): string {
  let id: string;
  try {
    id = decodeURIComponent(request.params.id ?? "");
  } catch {
    id = "";
  }
  if (!v.is(ContainerIdSchema, id)) throw new EdgeError(400, "invalid_container_id", containerIdRule("container id"));
  return id;
}

/** `scope`: the containers the caller may read; a scoped key sees their alerts and overrides only. */
export async function listAlertsHandler(env: Env, scope: readonly string[] | "*"): Promise<Response> {
  const all = await alertStub(env).list();
  if (scope === "*") return jsonResponse(all);
  const mine = (alert: { containerId: string | null }) => alert.containerId !== null && scope.includes(alert.containerId);
  return jsonResponse({
    open: all.open.filter(mine),
    resolved: all.resolved.filter(mine),
    defaults: all.defaults,
    overrides: Object.fromEntries(Object.entries(all.overrides).filter(([id]) => scope.includes(id))),
  });
}

export async function putThresholdsHandler(request: IRequest, env: Env): Promise<Response> {
  const id = containerId(request);
  const override = await readJsonBody(request, ThresholdsOverrideSchema);
  return jsonResponse({ containerId: id, thresholds: await alertStub(env).setThresholds(id, override) });
}

export async function deleteThresholdsHandler(request: IRequest, env: Env): Promise<Response> {
  const id = containerId(request);
  const stub = alertStub(env);
  if (!(await stub.clearThresholds(id))) throw new EdgeError(404, "not_found", `container ${id} has no threshold overrides`);
  return jsonResponse({ containerId: id, thresholds: await stub.thresholdsFor(id) });
}
