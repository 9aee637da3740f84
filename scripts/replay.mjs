#!/usr/bin/env node
// Replay for repair: reads the control plane (Supabase, via @supabase/supabase-js with the service-role key) and
// re-sends what the edge should have, through the edge's own endpoints. Safe to run any number of times: the
// edge's Durable Objects refuse versions they already applied, and a repair writes only KV keys that differ.
//
//   npm run replay -- --all                 every container at its current config_version, then a KV repair
//   npm run replay -- --container <id> ...  the same for the named containers
//   npm run replay -- --outbox              every outbox row not yet delivered, in order; marks each delivered
//
// Containers and outbox rows go through POST /_edge/hooks/supabase as Database Webhook payloads (exactly what the
// webhook on edge_outbox would have sent), so the edge reads the config from Supabase itself; --all and
// --container then queue a repair through POST /_edge/admin/replay, which re-checks KV against the applied config.
//
// Environment (or flags): SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY (required); EDGE_URL (--edge-url; default: PORT,
// else the port a running `npm start` recorded, else 8787), ADMIN_TOKEN (--admin-token, default dev-admin-token), WEBHOOK_SECRET
// (--webhook-secret, default dev-webhook-secret). Exit code: 0 when everything was accepted, 1 when something
// failed (run it again), 2 for usage errors. `--help` prints the same as usage.
import { parseArgs } from "node:util";
import { createClient } from "@supabase/supabase-js";
import { fetchOrExplain, localEdgeUrl } from "./local-url.mjs";

const PAGE = 500;
/** POST /_edge/admin/replay takes at most this many ids per call (schemas/admin.ts). */
const REPLAY_CHUNK = 1000;

const HELP = `npm run replay -- <mode> [options]: re-sends what the edge should have from the control plane (Supabase).

Modes (exactly one):
  --all                  every container at its current config_version, then a KV repair of each
  --container <id>       the same for the named containers (repeatable); one not in Supabase is an error
  --outbox               every edge_outbox row not yet delivered, oldest first; marks each delivered

Options (or environment):
  --supabase-url <url>        SUPABASE_URL (required)
  --service-role-key <key>    SUPABASE_SERVICE_ROLE_KEY (required)
  --edge-url <base URL>       EDGE_URL; default: PORT, else the running npm start, else http://127.0.0.1:8787
  --admin-token <token>       ADMIN_TOKEN (default dev-admin-token)
  --webhook-secret <secret>   WEBHOOK_SECRET (default dev-webhook-secret)
  --help                      this text

Exit code: 0 everything accepted, 1 something failed (run it again), 2 usage error. Documentation: docs/self-healing.md`;

class UsageError extends Error {}

/**
 * @template {import("node:util").ParseArgsConfig} T
 * @param {T} config
 * @returns {ReturnType<typeof parseArgs<T>>}
 */
function parseArgsOrExplain(config) {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)} (npm run replay -- --help lists the options)`);
  }
}

function options(argv) {
  const { values } = parseArgsOrExplain({
    args: argv,
    options: {
      all: { type: "boolean" },
      container: { type: "string", multiple: true },
      outbox: { type: "boolean" },
      "edge-url": { type: "string" },
      "admin-token": { type: "string" },
      "webhook-secret": { type: "string" },
      "supabase-url": { type: "string" },
      "service-role-key": { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return null;
  const modes = [values.all, values.container, values.outbox].filter(Boolean).length;
  if (modes !== 1) throw new UsageError("choose one of --all, --container <id> (repeatable) or --outbox (npm run replay -- --help)");
  const supabaseUrl = values["supabase-url"] ?? process.env.SUPABASE_URL;
  const serviceRoleKey = values["service-role-key"] ?? process.env.SUPABASE_SERVICE_ROLE_KEY;
  if (!supabaseUrl || !serviceRoleKey)
    throw new UsageError("set SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY (or --supabase-url, --service-role-key)");
  return {
    mode: values.all ? "all" : values.outbox ? "outbox" : "container",
    containerIds: values.container ?? [],
    supabaseUrl,
    serviceRoleKey,
    ...(({ url, from }) => ({ edgeUrl: url, edgeUrlFrom: from }))(localEdgeUrl(values["edge-url"], "--edge-url")),
    adminToken: values["admin-token"] ?? process.env.ADMIN_TOKEN ?? "dev-admin-token",
    webhookSecret: values["webhook-secret"] ?? process.env.WEBHOOK_SECRET ?? "dev-webhook-secret",
  };
}

function supabaseFor(opts) {
  return createClient(opts.supabaseUrl, opts.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    // Node 20 has no global WebSocket and supabase-js refuses to start without one, although replay never uses
    // Realtime; this transport only says so if something ever tries.
    realtime: {
      // Typed as the constructor it stands for: it never builds anything, so it has none of a WebSocket's members.
      transport: /** @type {import("@supabase/realtime-js").WebSocketLikeConstructor} */ (
        /** @type {unknown} */ (
          class {
            constructor() {
              throw new Error("replay does not use Supabase Realtime");
            }
          }
        )
      ),
    },
  });
}

/** Every row of a query, a page at a time (PostgREST caps result sizes). */
async function allRows(build) {
  const rows = [];
  for (let from = 0; ; from += PAGE) {
    const { data, error } = await build().range(from, from + PAGE - 1);
    if (error) throw new Error(`Supabase: ${error.message}`);
    rows.push(...data);
    if (data.length < PAGE) return rows;
  }
}

/** Sends one outbox row to the edge as the Database Webhook would. Returns the edge's answer. */
async function sendOutboxRow(opts, record) {
  const res = await fetchOrExplain(
    `${opts.edgeUrl}/_edge/hooks/supabase`,
    {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Webhook-Secret": opts.webhookSecret },
      body: JSON.stringify({ type: "INSERT", table: "edge_outbox", schema: "public", record, old_record: null }),
    },
    opts.edgeUrlFrom,
    "--edge-url",
  );
  const body = await res.json().catch(() => ({}));
  if (res.status !== 202) throw new Error(`edge answered ${res.status}: ${body.message ?? JSON.stringify(body)}`);
  return body;
}

async function queueRepairs(opts, containerIds, log) {
  let queued = 0;
  for (let i = 0; i < containerIds.length; i += REPLAY_CHUNK) {
    const res = await fetchOrExplain(
      `${opts.edgeUrl}/_edge/admin/replay`,
      {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${opts.adminToken}` },
        body: JSON.stringify({ containerIds: containerIds.slice(i, i + REPLAY_CHUNK) }),
      },
      opts.edgeUrlFrom,
      "--edge-url",
    );
    const body = await res.json().catch(() => ({}));
    if (res.status !== 202) throw new Error(`POST /_edge/admin/replay answered ${res.status}: ${body.message ?? JSON.stringify(body)}`);
    queued += body.enqueued;
  }
  log(`repair queued for ${queued} container(s): the edge re-checks their KV keys against the applied config`);
  return queued;
}

/** --all / --container: each container at its current version, then a repair for all of them. */
async function replayContainers(opts, supabase, log) {
  const summary = { containers: 0, enqueued: 0, alreadyApplied: 0, repairsQueued: 0, failed: 0 };
  const rows = await allRows(() => {
    const query = supabase.from("containers").select("id, config_version").order("id");
    return opts.mode === "all" ? query : query.in("id", opts.containerIds);
  });
  for (const id of opts.containerIds.filter((wanted) => !rows.some((row) => row.id === wanted))) {
    log(`${id}: not in the control plane (containers table)`);
    summary.failed += 1;
  }
  summary.containers = rows.length;
  const sent = [];
  for (const [i, row] of rows.entries()) {
    const label = `[${i + 1}/${rows.length}] ${row.id} v${row.config_version}`;
    try {
      const answer = await sendOutboxRow(opts, {
        id: `replay:${row.id}:${row.config_version}`,
        container_id: row.id,
        config_version: row.config_version,
        op: "upsert",
      });
      if (answer.enqueued) summary.enqueued += 1;
      else summary.alreadyApplied += 1;
      log(`${label}: ${answer.enqueued ? "enqueued" : "already applied at the edge"}`);
      sent.push(row.id);
    } catch (error) {
      summary.failed += 1;
      log(`${label}: FAILED ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (sent.length > 0) summary.repairsQueued = await queueRepairs(opts, sent, log);
  return summary;
}

/** --outbox: re-sends undelivered rows oldest first and marks each one the edge accepted. */
async function replayOutbox(opts, supabase, log) {
  const summary = { rows: 0, enqueued: 0, alreadyApplied: 0, failed: 0 };
  let after = 0;
  for (;;) {
    // Keyset paging: rows marked delivered drop out of the filter, so offsets would skip rows.
    const { data: rows, error } = await supabase
      .from("edge_outbox")
      .select("id, container_id, config_version, op, created_at")
      .is("delivered_at", null)
      .gt("id", after)
      .order("id")
      .limit(PAGE);
    if (error) throw new Error(`Supabase: ${error.message}`);
    for (const row of rows) {
      summary.rows += 1;
      const label = `#${row.id} ${row.container_id} v${row.config_version} ${row.op}`;
      try {
        const answer = await sendOutboxRow(opts, row);
        const { error: markError } = await supabase.from("edge_outbox").update({ delivered_at: new Date().toISOString() }).eq("id", row.id);
        if (markError) throw new Error(`sent, but marking it delivered failed: ${markError.message}`);
        if (answer.enqueued) summary.enqueued += 1;
        else summary.alreadyApplied += 1;
        log(`${label}: ${answer.enqueued ? "enqueued" : "already applied at the edge"}, marked delivered`);
      } catch (error) {
        summary.failed += 1;
        log(`${label}: FAILED ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (rows.length < PAGE) return summary;
    after = rows.at(-1).id;
  }
}

async function replay(argv, log) {
  const opts = options(argv);
  if (opts === null) {
    log(HELP);
    return { failed: 0 };
  }
  const supabase = supabaseFor(opts);
  log(`replay ${opts.mode === "container" ? opts.containerIds.join(", ") : `--${opts.mode}`}: ${opts.supabaseUrl} -> ${opts.edgeUrl}`);
  const summary = await (opts.mode === "outbox" ? replayOutbox(opts, supabase, log) : replayContainers(opts, supabase, log)).catch(
    (error) => {
      // A Supabase failure names the project it tried and where that came from.
      if (error instanceof Error && error.message.startsWith("Supabase:")) {
        throw new Error(`${error.message} (asking ${opts.supabaseUrl}, from SUPABASE_URL or --supabase-url)`);
      }
      throw error;
    },
  );
  log(
    `summary: ${Object.entries(summary)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
  );
  return summary;
}

replay(process.argv.slice(2), console.log).then(
  (summary) => process.exit(summary.failed > 0 ? 1 : 0),
  (error) => {
    console.error(`replay: ${error.message}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
