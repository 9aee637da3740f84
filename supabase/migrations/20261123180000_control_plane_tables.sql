-- The control plane's source of truth for the edge: one row per sGTM container plus the rows that make up its
-- EdgeConfig (hosts, loader token, entitlements, modules), and loader_sessions, written by the edge.
-- Check constraints mirror schemas/edge-config.ts so that public.get_edge_config never returns a config the edge
-- would reject: a bad value fails here, in the operator's transaction, instead of later in the sync consumer.

-- Internals (trigger functions, helpers) live outside `public`, which PostgREST exposes as RPC.
create schema if not exists edge_internal;
revoke all on schema edge_internal from public;

-- True when every element of `items` matches `pattern` (check constraints cannot use subqueries directly).
create function edge_internal.all_match(items text[], pattern text) returns boolean
language sql immutable parallel safe set search_path = ''
as $$ select coalesce(bool_and(item ~ pattern), true) from unnest(items) as item $$;

create table public.containers (
  id text primary key
    check (id ~ '^[a-z0-9][a-z0-9_-]{2,63}$'),
  -- An origin without path; an explicit default port would not survive the edge's URL normalisation.
  upstream text not null
    check (upstream ~ '^https?://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$'
           and upstream !~ '^https://.*:443$' and upstream !~ '^http://.*:80$'),
  gtm_id text not null
    check (gtm_id ~ '^(GTM|G)-[A-Z0-9]{4,16}$'),
  allowed_origins text[] not null default '{}'
    check (edge_internal.all_match(allowed_origins, '^https?://[a-z0-9.-]+(:[0-9]{1,5})?$')),
  proxy_path text not null default '/k/'
    check (proxy_path ~ '^/([A-Za-z0-9_-]+/)+$' and proxy_path !~ '^/_edge/'),
  proxy_param text not null default 'p'
    check (proxy_param ~ '^[A-Za-z0-9_]{1,32}$'),
  loader_path text not null default '/l/'
    check (loader_path ~ '^/([A-Za-z0-9_-]+/)+$' and loader_path !~ '^/_edge/'),
  -- Owned by triggers (config_versioning migration): +1 once per transaction that changes this container's
  -- EdgeConfig. Values written by clients are overridden.
  config_version bigint not null default 1 check (config_version >= 1),
  -- The transaction that last bumped config_version, so further changes in that transaction do not bump again.
  config_txid bigint,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint containers_paths_differ check (proxy_path <> loader_path)
);

-- Infra hosts (ROUTING_MAP: the edge's own names) and public hosts (SITE_REGISTRY: the shop's names, optionally
-- with one path segment for same-origin mode). A host belongs to at most one container per kind, as in KV.
create table public.container_hosts (
  kind text not null check (kind in ('infra', 'public')),
  host text not null
    check (host ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(/[a-z0-9][a-z0-9_-]{0,62})?$'
           and length(split_part(host, '/', 1)) <= 253
           and (kind = 'public' or position('/' in host) = 0)),
  container_id text not null references public.containers (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (kind, host)
);
create index container_hosts_container_id on public.container_hosts (container_id);

-- One loader token per container (GET /l/:token.js). A container gets a random one when it is created; rotate it
-- with an UPDATE.
create table public.loader_tokens (
  token text primary key check (token ~ '^[A-Za-z0-9_-]{6,64}$'),
  container_id text not null unique references public.containers (id) on delete cascade,
  created_at timestamptz not null default now()
);

create table public.container_entitlements (
  container_id text not null references public.containers (id) on delete cascade,
  entitlement text not null check (entitlement in ('cookie_restoration', 'adblock_detection')),
  created_at timestamptz not null default now(),
  primary key (container_id, entitlement)
);

-- A module without a row is disabled. The cookie settings belong to cookieKeeper only; null means the default
-- the EdgeConfig schema gives.
create table public.container_modules (
  container_id text not null references public.containers (id) on delete cascade,
  module text not null check (module in ('cookieKeeper', 'cookieRestoration', 'adblockDetection')),
  enabled boolean not null default false,
  cookies text[] check (edge_internal.all_match(cookies, '^[!#$%&''*+.^_`|~0-9A-Za-z-]+$')),
  -- Browsers cap cookie lifetimes at 400 days.
  max_age_days integer check (max_age_days between 1 and 400),
  http_only text[] check (edge_internal.all_match(http_only, '^[!#$%&''*+.^_`|~0-9A-Za-z-]+$')),
  created_at timestamptz not null default now(),
  primary key (container_id, module),
  constraint container_modules_cookie_settings_only_for_cookie_keeper
    check (module = 'cookieKeeper' or (cookies is null and max_age_days is null and http_only is null))
);

-- The transactional outbox: one row per change to a container's EdgeConfig, written by triggers in the same
-- transaction as the change. A Supabase Database Webhook on INSERT posts each row to the edge
-- (POST /_edge/hooks/supabase); `npm run replay -- --outbox` re-sends rows not yet confirmed and sets delivered_at.
create table public.edge_outbox (
  id bigint generated always as identity primary key,
  container_id text not null,
  config_version bigint not null check (config_version >= 1),
  op text not null check (op in ('upsert', 'delete')),
  created_at timestamptz not null default now(),
  delivered_at timestamptz
);
create index edge_outbox_undelivered on public.edge_outbox (id) where delivered_at is null;

-- The version a deleted container's removal was given, so a container re-created under the same id continues
-- above it (the edge refuses versions not newer than the one it applied).
create table public.edge_tombstones (
  container_id text primary key,
  config_version bigint not null,
  deleted_at timestamptz not null default now()
);

-- Loader detection results, upserted by the edge's log consumer (schemas/log-record.ts DetectionRecord).
-- No foreign key to containers: a late record of a deleted container must not fail the consumer's batch.
create table public.loader_sessions (
  session_id text primary key check (session_id ~ '^[A-Za-z0-9_-]{8,64}$'),
  container_id text not null,
  host text not null check (length(host) <= 253),
  adblock boolean not null,
  itp boolean not null,
  country text check (length(country) <= 8),
  -- The record's `ts` (epoch milliseconds), sent as an ISO 8601 timestamp.
  detected_at timestamptz not null
);
create index loader_sessions_container_detected on public.loader_sessions (container_id, detected_at);
