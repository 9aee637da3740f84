// supabase/migrations against a real PostgreSQL 15 (a throwaway cluster, test/support/postgres.mjs): the
// migrations apply from empty; every kind of EdgeConfig change bumps config_version once and writes one outbox
// row; get_edge_config's output passes the edge's own valibot schema unchanged; row-level security keeps the
// anon role out. The database is prepared the way a Supabase project is (roles anon, authenticated and
// service_role with BYPASSRLS, and Supabase's default grants to all three), so the guarded parts run too.
import * as v from "valibot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgeConfigSchema } from "../../schemas/edge-config";
import { sessionRows } from "../../workers/log-consumer/sessions";
import { applyMigrations, SUPABASE_ROLES_SQL, startPostgres } from "../support/postgres.mjs";

let pg: Awaited<ReturnType<typeof startPostgres>>;
let migrations: string[];

let plainMigrations: string[];

beforeAll(async () => {
  pg = await startPostgres();
  // Plain PostgreSQL first: roles are cluster-wide, so this database must be migrated before they exist.
  await pg.exec(`create database plain`);
  plainMigrations = await applyMigrations(pg, { database: "plain" });
  await pg.exec(SUPABASE_ROLES_SQL);
  migrations = await applyMigrations(pg);
});

afterAll(async () => {
  await pg?.stop();
});

const sqlText = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** A container with one infra host, created in one transaction (a container needs a host at commit). */
async function createContainer(id: string, extra = "") {
  await pg.exec(`
    begin;
    insert into containers (id, upstream, gtm_id) values (${sqlText(id)}, 'https://sgtm.${id}.example', 'GTM-ABC123');
    insert into container_hosts (kind, host, container_id) values ('infra', '${id}.edge.example', ${sqlText(id)});
    ${extra}
    commit;`);
}

async function versionOf(id: string): Promise<number | undefined> {
  const [row] = await pg.query(`select config_version from containers where id = ${sqlText(id)}`);
  return row?.config_version;
}

async function outboxAfter(lastId: number) {
  return pg.query(`select id, container_id, config_version, op, delivered_at from edge_outbox where id > ${lastId} order by id`);
}

async function lastOutboxId(): Promise<number> {
  const [row] = await pg.query(`select coalesce(max(id), 0) as id from edge_outbox`);
  return row.id;
}

/** Runs `sql` and reports how the container's version moved and which outbox rows appeared. */
async function change(id: string, sql: string) {
  const before = await versionOf(id);
  const since = await lastOutboxId();
  await pg.exec(sql);
  return { before: before!, after: await versionOf(id), outbox: await outboxAfter(since) };
}

describe("migrations", () => {
  it("apply to plain PostgreSQL without Supabase's roles (the role-specific parts are skipped)", async () => {
    expect(plainMigrations).toEqual(migrations);
    await pg.exec(
      `begin;
      insert into containers (id, upstream, gtm_id) values ('plain-shop', 'https://sgtm.plain.example', 'GTM-PLAIN1');
      insert into container_hosts (kind, host, container_id) values ('infra', 'plain.edge.example', 'plain-shop');
      commit;`,
      { database: "plain" },
    );
    const [row] = await pg.query(`select public.get_edge_config('plain-shop') as config`, { database: "plain" });
    expect(v.is(EdgeConfigSchema, row.config)).toBe(true);
  });

  it("apply to an empty database and create the control plane's tables", async () => {
    expect(migrations.length).toBeGreaterThan(0);
    const tables = await pg.query(`select table_name from information_schema.tables where table_schema = 'public' order by 1`);
    expect(tables.map((t) => t.table_name)).toEqual([
      "container_entitlements",
      "container_hosts",
      "container_modules",
      "containers",
      "edge_outbox",
      "edge_tombstones",
      "loader_sessions",
      "loader_tokens",
    ]);
  });
});

describe("config_version and the outbox", () => {
  it("a container created with hosts, modules and entitlements in one transaction is version 1 with one outbox row", async () => {
    const since = await lastOutboxId();
    await createContainer(
      "ver-create",
      `
      insert into container_hosts (kind, host, container_id) values ('public', 'ss.ver-create.example', 'ver-create');
      insert into container_entitlements (container_id, entitlement) values ('ver-create', 'adblock_detection');
      insert into container_modules (container_id, module, enabled) values ('ver-create', 'adblockDetection', true);`,
    );
    expect(await versionOf("ver-create")).toBe(1);
    expect(await outboxAfter(since)).toEqual([
      { id: since + 1, container_id: "ver-create", config_version: 1, op: "upsert", delivered_at: null },
    ]);
  });

  // Each kind of change, measured on its own container; `setup` runs first and is not measured.
  const kinds: Array<{ name: string; setup?: (id: string) => string; sql: (id: string) => string }> = [
    { name: "the upstream changes", sql: (id) => `update containers set upstream = 'https://sgtm2.${id}.example' where id = '${id}'` },
    {
      name: "two container columns change in one statement",
      sql: (id) => `update containers set gtm_id = 'GTM-NEW999', allowed_origins = '{https://www.${id}.example}' where id = '${id}'`,
    },
    { name: "the proxy path changes", sql: (id) => `update containers set proxy_path = '/m/' where id = '${id}'` },
    {
      name: "a host is added",
      sql: (id) => `insert into container_hosts (kind, host, container_id) values ('public', 'ss.${id}.example', '${id}')`,
    },
    {
      name: "three hosts are added in one statement",
      sql: (id) => `insert into container_hosts (kind, host, container_id) values
      ('public', 'a.${id}.example', '${id}'), ('public', 'b.${id}.example', '${id}'), ('public', 'www.${id}.example/m', '${id}')`,
    },
    {
      name: "a host is renamed",
      sql: (id) => `update container_hosts set host = '${id}-2.edge.example' where host = '${id}.edge.example'`,
    },
    {
      name: "a host is removed",
      setup: (id) => `insert into container_hosts (kind, host, container_id) values ('public', 'x.${id}.example', '${id}')`,
      sql: (id) => `delete from container_hosts where host = '${id}.edge.example'`,
    },
    {
      name: "the loader token is rotated",
      sql: (id) => `update loader_tokens set token = 'lt_${id.replaceAll("-", "_")}_rotated' where container_id = '${id}'`,
    },
    {
      name: "an entitlement is granted",
      sql: (id) => `insert into container_entitlements (container_id, entitlement) values ('${id}', 'cookie_restoration')`,
    },
    {
      name: "an entitlement is withdrawn",
      setup: (id) => `insert into container_entitlements (container_id, entitlement) values ('${id}', 'cookie_restoration')`,
      sql: (id) => `delete from container_entitlements where container_id = '${id}'`,
    },
    {
      name: "a module is enabled with settings",
      sql: (id) => `insert into container_modules (container_id, module, enabled, max_age_days, http_only)
      values ('${id}', 'cookieKeeper', true, 30, '{FPID}')`,
    },
    {
      name: "a module's settings change",
      setup: (id) => `insert into container_modules (container_id, module, enabled) values ('${id}', 'cookieKeeper', true)`,
      sql: (id) => `update container_modules set max_age_days = 100, cookies = '{_ga}' where container_id = '${id}'`,
    },
    {
      name: "several statements on several tables in one transaction",
      sql: (id) => `begin;
      update containers set gtm_id = 'GTM-TX1234' where id = '${id}';
      insert into container_hosts (kind, host, container_id) values ('public', 'tx.${id}.example', '${id}');
      insert into container_entitlements (container_id, entitlement) values ('${id}', 'adblock_detection');
      insert into container_modules (container_id, module, enabled) values ('${id}', 'adblockDetection', true);
      update loader_tokens set token = 'lt_${id.replaceAll("-", "_")}_tx' where container_id = '${id}';
      commit`,
    },
  ];

  for (const [i, kind] of kinds.entries()) {
    it(`bumps once and writes one outbox row when ${kind.name}`, async () => {
      const id = `ver-kind-${i}`;
      await createContainer(id);
      if (kind.setup) await pg.exec(kind.setup(id));
      const { before, after, outbox } = await change(id, kind.sql(id));
      expect(after).toBe(before + 1);
      expect(outbox).toMatchObject([{ container_id: id, config_version: before + 1, op: "upsert" }]);
    });
  }

  it("one statement changing two containers bumps each once, one outbox row each", async () => {
    await createContainer("ver-multi-a");
    await createContainer("ver-multi-b");
    const since = await lastOutboxId();
    await pg.exec(`update containers set gtm_id = 'GTM-MULTI1' where id in ('ver-multi-a', 'ver-multi-b')`);
    expect(await versionOf("ver-multi-a")).toBe(2);
    expect(await versionOf("ver-multi-b")).toBe(2);
    const outbox = await outboxAfter(since);
    expect(outbox.map((r) => `${r.container_id}@${r.config_version}`).sort()).toEqual(["ver-multi-a@2", "ver-multi-b@2"]);
  });

  it("an update that leaves everything as it was is not a change", async () => {
    await createContainer("ver-noop");
    const { before, after, outbox } = await change(
      "ver-noop",
      `
      update containers set upstream = upstream where id = 'ver-noop';
      update container_hosts set host = host where container_id = 'ver-noop';`,
    );
    expect(after).toBe(before);
    expect(outbox).toEqual([]);
  });

  it("a rolled-back change leaves neither a version nor an outbox row", async () => {
    await createContainer("ver-rollback");
    const { before, after, outbox } = await change(
      "ver-rollback",
      `begin; update containers set gtm_id = 'GTM-GONE11' where id = 'ver-rollback'; rollback;`,
    );
    expect(after).toBe(before);
    expect(outbox).toEqual([]);
  });

  it("a config_version written by a client is replaced by the next version", async () => {
    await createContainer("ver-forged");
    const { before, after, outbox } = await change("ver-forged", `update containers set config_version = 1000 where id = 'ver-forged'`);
    expect(after).toBe(before + 1);
    expect(outbox).toMatchObject([{ config_version: before + 1 }]);
  });

  it("deleting a container writes one delete row with the next version; re-creating it continues above", async () => {
    await createContainer(
      "ver-delete",
      `insert into container_hosts (kind, host, container_id) values ('public', 'ss.ver-delete.example', 'ver-delete');`,
    );
    await pg.exec(`update containers set gtm_id = 'GTM-DEL123' where id = 'ver-delete'`);
    const since = await lastOutboxId();
    await pg.exec(`delete from containers where id = 'ver-delete'`);
    expect(await outboxAfter(since)).toMatchObject([{ container_id: "ver-delete", config_version: 3, op: "delete" }]);

    await createContainer("ver-delete");
    expect(await versionOf("ver-delete")).toBe(4);
    expect(await outboxAfter(since)).toMatchObject([
      { op: "delete", config_version: 3 },
      { op: "upsert", config_version: 4 },
    ]);
  });

  it("refuses a container without hosts at commit", async () => {
    await expect(
      pg.exec(`insert into containers (id, upstream, gtm_id) values ('ver-hostless', 'https://sgtm.example', 'GTM-ABC123')`),
    ).rejects.toThrow(/needs at least one infra or public host/);
    expect(await versionOf("ver-hostless")).toBeUndefined();
  });

  it("refuses TRUNCATE, which would bypass the outbox", async () => {
    await expect(pg.exec(`truncate container_entitlements`)).rejects.toThrow(/bypasses the edge outbox/);
  });
});

describe("get_edge_config", () => {
  async function edgeConfigOf(id: string) {
    const [row] = await pg.query(`select public.get_edge_config(${sqlText(id)}) as config`);
    return row.config;
  }

  it("returns a config that the edge's EdgeConfigSchema accepts unchanged", async () => {
    await createContainer(
      "cfg-full",
      `
      update containers set allowed_origins = '{https://www.cfg-full.example}', proxy_path = '/t/', proxy_param = 'q',
        loader_path = '/boot/' where id = 'cfg-full';
      insert into container_hosts (kind, host, container_id) values
        ('public', 'ss.cfg-full.example', 'cfg-full'), ('public', 'www.cfg-full.example/metrics', 'cfg-full');
      update loader_tokens set token = 'lt_9fQk2x' where container_id = 'cfg-full';
      insert into container_entitlements (container_id, entitlement) values
        ('cfg-full', 'cookie_restoration'), ('cfg-full', 'adblock_detection'), ('cfg-full', 'bot_detection');
      insert into container_modules (container_id, module, enabled, cookies, max_age_days, http_only) values
        ('cfg-full', 'cookieKeeper', true, '{_ga,_ga_*,FPID}', 400, '{FPID}');
      insert into container_modules (container_id, module, enabled) values
        ('cfg-full', 'cookieRestoration', true), ('cfg-full', 'adblockDetection', false), ('cfg-full', 'geoHeaders', true);
      insert into container_modules (container_id, module, enabled, mode) values ('cfg-full', 'ipAnonymization', true, 'drop');
      insert into container_modules (container_id, module, enabled, action) values ('cfg-full', 'botDetection', true, 'block');`,
    );
    const config = await edgeConfigOf("cfg-full");

    const parsed = v.safeParse(EdgeConfigSchema, config);
    expect(parsed.issues).toBeUndefined();
    // Unchanged: every field present, nothing defaulted, clamped or trimmed by the schema.
    expect(parsed.output).toEqual(config);
    expect(config).toEqual({
      containerId: "cfg-full",
      version: 1,
      upstream: "https://sgtm.cfg-full.example",
      infraHosts: ["cfg-full.edge.example"],
      publicHosts: ["ss.cfg-full.example", "www.cfg-full.example/metrics"],
      loaderToken: "lt_9fQk2x",
      gtmId: "GTM-ABC123",
      dataLayer: "dataLayer",
      identityCookie: "FPID",
      allowedOrigins: ["https://www.cfg-full.example"],
      entitlements: ["adblock_detection", "bot_detection", "cookie_restoration"],
      modules: {
        cookieKeeper: { enabled: true, cookies: ["_ga", "_ga_*", "FPID"], maxAgeDays: 400, httpOnly: ["FPID"] },
        cookieRestoration: { enabled: true },
        adblockDetection: { enabled: false },
        geoHeaders: { enabled: true },
        ipAnonymization: { enabled: true, mode: "drop" },
        botDetection: { enabled: true, action: "block" },
      },
      proxyPath: "/t/",
      proxyParam: "q",
      loaderPath: "/boot/",
    });
  });

  it("fills in exactly the schema's defaults for a container with nothing but an upstream and a host", async () => {
    await createContainer("cfg-bare");
    const config = await edgeConfigOf("cfg-bare");
    const minimal = {
      containerId: "cfg-bare",
      version: 1,
      upstream: "https://sgtm.cfg-bare.example",
      infraHosts: ["cfg-bare.edge.example"],
      loaderToken: config.loaderToken,
      gtmId: "GTM-ABC123",
    };
    expect(config).toEqual(v.parse(EdgeConfigSchema, minimal));
  });

  it("refuses a mode or action on another module, and values the schema does not know", async () => {
    await createContainer("cfg-modules");
    const insert = (values: string) =>
      pg.exec(`insert into container_modules (container_id, module, enabled, mode, action) values ${values}`);
    await expect(insert(`('cfg-modules', 'geoHeaders', true, 'drop', null)`)).rejects.toThrow(
      /container_modules_mode_only_for_ip_anonymization/,
    );
    await expect(insert(`('cfg-modules', 'ipAnonymization', true, null, 'block')`)).rejects.toThrow(
      /container_modules_action_only_for_bot_detection/,
    );
    await expect(insert(`('cfg-modules', 'ipAnonymization', true, 'hash', null)`)).rejects.toThrow(/container_modules_mode_check/);
    await expect(insert(`('cfg-modules', 'botDetection', true, null, 'challenge')`)).rejects.toThrow(/container_modules_action_check/);
    await expect(pg.exec(`insert into container_entitlements values ('cfg-modules', 'geo_headers')`)).rejects.toThrow(
      /container_entitlements_entitlement_check/,
    );
  });

  it("bumps config_version when a module's mode or action changes", async () => {
    await createContainer(
      "cfg-mode",
      `insert into container_modules (container_id, module, enabled) values ('cfg-mode', 'ipAnonymization', true);`,
    );
    expect(await edgeConfigOf("cfg-mode")).toMatchObject({ version: 1, modules: { ipAnonymization: { enabled: true, mode: "truncate" } } });
    await pg.exec(`update container_modules set mode = 'drop' where container_id = 'cfg-mode' and module = 'ipAnonymization'`);
    expect(await edgeConfigOf("cfg-mode")).toMatchObject({ version: 2, modules: { ipAnonymization: { mode: "drop" } } });
  });

  it("carries identityCookie, dataLayer and a GTM environment, and a change to one is a new version", async () => {
    await createContainer("cfg-gtm-env");
    await pg.exec(`update containers set identity_cookie = 'shop_uid', data_layer = 'shopLayer',
      gtm_auth = 'aBcD1234efGH', gtm_preview = 'env-7' where id = 'cfg-gtm-env'`);
    const config = await edgeConfigOf("cfg-gtm-env");
    expect(config).toMatchObject({
      version: 2,
      identityCookie: "shop_uid",
      dataLayer: "shopLayer",
      gtmEnvironment: { auth: "aBcD1234efGH", preview: "env-7" },
    });
    expect(v.parse(EdgeConfigSchema, config)).toEqual(config);
  });

  it("refuses half a GTM environment, or one on a G- id", async () => {
    await createContainer("cfg-gtm-half");
    await expect(pg.exec(`update containers set gtm_auth = 'aBcD1234efGH' where id = 'cfg-gtm-half'`)).rejects.toThrow(
      /containers_gtm_environment/,
    );
    await expect(
      pg.exec(`update containers set gtm_id = 'G-ABC1234', gtm_auth = 'aBcD1234efGH', gtm_preview = 'env-7' where id = 'cfg-gtm-half'`),
    ).rejects.toThrow(/containers_gtm_environment/);
  });

  it("carries the current config_version", async () => {
    await createContainer("cfg-version");
    await pg.exec(`update containers set gtm_id = 'GTM-VER222' where id = 'cfg-version'`);
    expect(await edgeConfigOf("cfg-version")).toMatchObject({ version: 2, gtmId: "GTM-VER222" });
  });

  it("returns null for a container the control plane does not have", async () => {
    expect(await edgeConfigOf("cfg-missing")).toBeNull();
  });
});

describe("access control", () => {
  beforeAll(async () => {
    await createContainer("rls-shop");
  });

  it("anon can neither read configs nor call get_edge_config (Supabase's default grants are revoked)", async () => {
    await expect(pg.exec(`select * from containers`, { role: "anon" })).rejects.toThrow(/permission denied for table containers/);
    await expect(pg.exec(`select public.get_edge_config('rls-shop')`, { role: "anon" })).rejects.toThrow(
      /permission denied for function get_edge_config/,
    );
    await expect(
      pg.exec(`insert into loader_sessions values ('sess-anon-1', 'rls-shop', 'h', false, false, null, now())`, { role: "anon" }),
    ).rejects.toThrow(/permission denied for table loader_sessions/);
  });

  it("row-level security alone also hides every row from anon and refuses its writes", async () => {
    // Grant the table privileges back inside a rolled-back transaction, so only RLS stands in the way.
    const out = await pg.exec(`
      begin;
      grant select on containers, edge_outbox to anon;
      grant insert on loader_sessions to anon;
      set role anon;
      select (select count(*) from containers) || ',' || (select count(*) from edge_outbox);
      rollback;`);
    expect(out.trim()).toBe("0,0");
    await expect(
      pg.exec(`
      begin;
      grant insert on loader_sessions to anon;
      set role anon;
      insert into loader_sessions values ('sess-anon-2', 'rls-shop', 'h', false, false, null, now());
      rollback;`),
    ).rejects.toThrow(/violates row-level security policy for table "loader_sessions"/);
  });

  it("the service role reads configs and upserts the log consumer's loader_sessions rows", async () => {
    const [row] = await pg.query(`select public.get_edge_config('rls-shop') as config`, { role: "service_role" });
    expect(row.config).toMatchObject({ containerId: "rls-shop" });

    // The rows exactly as the log consumer sends them (PostgREST turns them into this INSERT ... ON CONFLICT).
    const record = {
      kind: "detection" as const,
      containerId: "rls-shop",
      sessionId: "sess-svc-1",
      host: "ss.rls-shop.example",
      adblock: true,
      itp: false,
      etp: true,
      mode: "subdomain" as const,
      country: "DE",
      webdriver: false,
      bot: false,
    };
    const upsert = (rows: unknown[]) =>
      pg.exec(
        `
      insert into loader_sessions select * from json_populate_recordset(null::loader_sessions, ${sqlText(JSON.stringify(rows))})
      on conflict (session_id) do update set adblock = excluded.adblock, itp = excluded.itp, bot = excluded.bot, detected_at = excluded.detected_at`,
        { role: "service_role" },
      );
    await upsert(sessionRows([{ ...record, ts: Date.UTC(2026, 10, 23, 12) }]));
    await upsert(sessionRows([{ ...record, ts: Date.UTC(2026, 10, 23, 13), itp: true, bot: true }]));
    expect(
      await pg.query(
        `select session_id, container_id, adblock, itp, etp, mode, country, bot, detected_at from loader_sessions where session_id = 'sess-svc-1'`,
      ),
    ).toEqual([
      {
        session_id: "sess-svc-1",
        container_id: "rls-shop",
        adblock: true,
        itp: true,
        etp: true,
        mode: "subdomain",
        country: "DE",
        bot: true,
        detected_at: "2026-11-23T13:00:00+00:00",
      },
    ]);
  });
});
