-- Issue 15: the EdgeConfig fields identityCookie, dataLayer and gtmEnvironment (schemas/edge-config.ts) on
-- containers, and what the loader's detection now records in loader_sessions: Firefox ETP and the deployment mode
-- the edge measured (workers/loader/visit-mode.ts).

-- Check constraints mirror schemas/edge-config.ts, as in the first migration.
alter table public.containers
  add column identity_cookie text not null default 'FPID'
    check (identity_cookie ~ '^[!#$%&''*+.^_`|~0-9A-Za-z-]+$'),
  add column data_layer text not null default 'dataLayer'
    check (data_layer ~ '^[A-Za-z_$][A-Za-z0-9_$]{0,63}$'),
  add column gtm_auth text check (gtm_auth ~ '^[A-Za-z0-9_-]{8,64}$'),
  add column gtm_preview text check (gtm_preview ~ '^env-[0-9]{1,9}$'),
  -- An environment is both parameters together, and only GTM containers have environments.
  add constraint containers_gtm_environment check (
    (gtm_auth is null) = (gtm_preview is null) and (gtm_auth is null or gtm_id like 'GTM-%'));

alter table public.loader_sessions
  add column etp boolean not null default false,
  add column mode text not null default 'unknown'
    check (mode in ('same-origin', 'subdomain', 'cross-site', 'unknown'));

-- The new columns are part of the EdgeConfig: changing one is a config change (see config_versioning).
create or replace function edge_internal.containers_before_update() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if new.id <> old.id then
    raise exception 'container id cannot change (% -> %): create a new container instead', old.id, new.id
      using errcode = 'check_violation';
  end if;
  new.created_at := old.created_at;
  -- Nothing the EdgeConfig contains changed and nobody touched the version: not a config change.
  if (new.upstream, new.gtm_id, new.allowed_origins, new.proxy_path, new.proxy_param, new.loader_path,
      new.identity_cookie, new.data_layer, new.gtm_auth, new.gtm_preview, new.config_version)
     is not distinct from
     (old.upstream, old.gtm_id, old.allowed_origins, old.proxy_path, old.proxy_param, old.loader_path,
      old.identity_cookie, old.data_layer, old.gtm_auth, old.gtm_preview, old.config_version)
  then
    new.config_txid := old.config_txid;
    return new;
  end if;
  new.updated_at := now();
  if old.config_txid is distinct from txid_current() then
    new.config_version := old.config_version + 1;
    new.config_txid := txid_current();
  else
    -- Already bumped in this transaction: this change is part of that version.
    new.config_version := old.config_version;
    new.config_txid := old.config_txid;
  end if;
  return new;
end
$$;

-- Same as before, plus dataLayer, identityCookie and (when set) gtmEnvironment.
create or replace function public.get_edge_config(p_container_id text) returns jsonb
language sql stable security invoker set search_path = ''
as $$
  select jsonb_build_object(
    'containerId', c.id,
    'version', c.config_version,
    'upstream', c.upstream,
    'infraHosts', coalesce(
      (select jsonb_agg(h.host order by h.host) from public.container_hosts h
        where h.container_id = c.id and h.kind = 'infra'), '[]'::jsonb),
    'publicHosts', coalesce(
      (select jsonb_agg(h.host order by h.host) from public.container_hosts h
        where h.container_id = c.id and h.kind = 'public'), '[]'::jsonb),
    'loaderToken', (select t.token from public.loader_tokens t where t.container_id = c.id),
    'gtmId', c.gtm_id,
    'dataLayer', c.data_layer,
    'identityCookie', c.identity_cookie,
    'allowedOrigins', to_jsonb(c.allowed_origins),
    'entitlements', coalesce(
      (select jsonb_agg(e.entitlement order by e.entitlement) from public.container_entitlements e
        where e.container_id = c.id), '[]'::jsonb),
    'modules', jsonb_build_object(
      -- The defaults are the EdgeConfig schema's (cookieKeeper's cookies, maxAgeDays and httpOnly).
      'cookieKeeper', (
        select jsonb_build_object(
          'enabled', coalesce(m.enabled, false),
          'cookies', to_jsonb(coalesce(m.cookies, array['_ga', '_ga_*', '_fbp', 'FPID'])),
          'maxAgeDays', coalesce(m.max_age_days, 395),
          'httpOnly', to_jsonb(coalesce(m.http_only, array[]::text[])))
        from (select 1) as one
        left join public.container_modules m on m.container_id = c.id and m.module = 'cookieKeeper'),
      'cookieRestoration', jsonb_build_object('enabled', coalesce(
        (select m.enabled from public.container_modules m
          where m.container_id = c.id and m.module = 'cookieRestoration'), false)),
      'adblockDetection', jsonb_build_object('enabled', coalesce(
        (select m.enabled from public.container_modules m
          where m.container_id = c.id and m.module = 'adblockDetection'), false))),
    'proxyPath', c.proxy_path,
    'proxyParam', c.proxy_param,
    'loaderPath', c.loader_path)
    -- Present only when set: the schema has no default for it.
    || case when c.gtm_auth is null then '{}'::jsonb
       else jsonb_build_object('gtmEnvironment', jsonb_build_object('auth', c.gtm_auth, 'preview', c.gtm_preview)) end
  from public.containers c
  where c.id = p_container_id
$$;
