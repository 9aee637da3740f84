// The scheduled alert check (Cron Trigger, every 5 minutes): gathers raw figures and hands them to AlertState,
// which applies each container's thresholds, raises, resolves and notifies. Each figure is gathered on its own: a
// source that fails leaves its alerts as they were (neither raised nor resolved) instead of failing the check.
import { alertStub, type EvaluationResult, type Observations } from "../../durable/alert-state";
import { containerStub } from "../../durable/container-state";
import type { ContainerHealth } from "../../schemas/alerts";
import { DEAD_LETTER_PREFIX } from "../shared/dead-letters";
import { customHostnameSource, type HostnameSource } from "./hostnames";
import { r2TrafficSource, type TrafficSource } from "./traffic";

/** The 5xx share is judged over this many recent minutes. */
const ERROR_WINDOW_MINUTES = 15;
/** The traffic baseline is the mean of the same hour on this many previous days. */
const BASELINE_DAYS = 7;
const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;
/** Dead letters are counted up to this many (one R2 listing). */
const DEAD_LETTER_COUNT_LIMIT = 100;

export interface AlertSources {
  traffic: TrafficSource;
  hostnames: HostnameSource;
}

export const DEFAULT_SOURCES: AlertSources = { traffic: r2TrafficSource, hostnames: customHostnameSource };

export async function runAlertChecks(env: Env, now: number, sources: AlertSources = DEFAULT_SOURCES): Promise<EvaluationResult> {
  const alerts = alertStub(env);
  const plan = await alerts.plan(now);
  const [errorWindow, trafficHour, deadLetters, containers, hostnames] = await Promise.all([
    gather("error_window", () => errorFigures(env, now, sources.traffic)),
    plan.trafficHour === null ? undefined : gather("traffic_hour", () => hourFigures(env, plan.trafficHour!, sources.traffic)),
    gather("dead_letters", () => countDeadLetters(env)),
    gather("container_health", () => readHealth(env, plan.watched)),
    gather("hostnames", async () => (await sources.hostnames(env, plan.hostnameContainers)) ?? undefined),
  ]);
  const observations: Observations = { now, errorWindow, trafficHour, deadLetters, containers, hostnames };
  const result = await alerts.evaluate(observations, env.ALERT_WEBHOOK_URL || null);
  if (result.raised.length + result.resolved.length > 0 || result.notifyFailed) {
    console.log(JSON.stringify({ event: "alert_check", ...result }));
  }
  return result;
}

async function gather<T>(what: string, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    console.error(JSON.stringify({ event: "alert_source_failed", source: what, error: String(error) }));
    return undefined;
  }
}

async function errorFigures(env: Env, now: number, traffic: TrafficSource): Promise<Observations["errorWindow"]> {
  const figures = await traffic(env, now - ERROR_WINDOW_MINUTES * 60_000, now);
  return { minutes: ERROR_WINDOW_MINUTES, perContainer: Object.fromEntries(figures.perContainer), truncated: figures.truncated };
}

/** The hour from `hourStart` against the same hour on each of the BASELINE_DAYS previous days. */
async function hourFigures(env: Env, hourStart: number, traffic: TrafficSource): Promise<Observations["trafficHour"]> {
  const windows = [0, ...Array.from({ length: BASELINE_DAYS }, (_, i) => i + 1)].map((days) => hourStart - days * DAY_MS);
  const figures = await Promise.all(windows.map((from) => traffic(env, from, from + HOUR_MS - 1)));
  const skipped = figures.some((f) => f.truncated);
  const [current, ...previous] = figures;
  const ids = new Set(figures.flatMap((f) => [...f.perContainer.keys()]));
  const perContainer: Record<string, { current: number; baseline: number }> = {};
  for (const id of ids) {
    const total = previous.reduce((sum, f) => sum + (f.perContainer.get(id)?.requests ?? 0), 0);
    perContainer[id] = { current: current!.perContainer.get(id)?.requests ?? 0, baseline: total / BASELINE_DAYS };
  }
  if (skipped) console.warn(JSON.stringify({ event: "traffic_drop_check_skipped", hourStart, reason: "traffic source truncated" }));
  return { hourStart, days: BASELINE_DAYS, perContainer: skipped ? {} : perContainer, skipped };
}

async function countDeadLetters(env: Env): Promise<Observations["deadLetters"]> {
  const page = await env.LOG_BUCKET.list({ prefix: DEAD_LETTER_PREFIX, limit: DEAD_LETTER_COUNT_LIMIT });
  return { count: page.objects.length, more: page.truncated };
}

/** The health of the containers that reported trouble, read from their own objects (the truth, not the report). */
async function readHealth(env: Env, ids: string[]): Promise<ContainerHealth[]> {
  const health = await Promise.all(ids.map((id) => containerStub(env, id).health()));
  return health.filter((h): h is ContainerHealth => h !== null);
}
