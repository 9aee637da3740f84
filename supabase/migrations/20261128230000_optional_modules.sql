-- The EdgeConfig's optional request modules (schemas/edge-config.ts, CONTRACT.md "Optional modules"): geoHeaders,
-- ipAnonymization { mode }, botDetection { action }, and the entitlement bot_detection. A module without a row is
-- disabled, as before; a null mode or action means the schema's default (truncate, tag). Changes to the new columns
-- bump config_version like any other module change (the modules trigger compares whole rows).

alter table public.container_entitlements drop constraint container_entitlements_entitlement_check;
alter table public.container_entitlements add constraint container_entitlements_entitlement_check
  check (entitlement in ('cookie_restoration', 'adblock_detection', 'bot_detection'));

alter table public.container_modules drop constraint container_modules_module_check;
alter table public.container_modules add constraint container_modules_module_check
  check (module in ('cookieKeeper', 'cookieRestoration', 'adblockDetection', 'geoHeaders', 'ipAnonymization', 'botDetection'));

alter table public.container_modules
  add column mode text check (mode in ('truncate', 'drop')),
  add column action text check (action in ('tag', 'block')),
  add constraint container_modules_mode_only_for_ip_anonymization check (module = 'ipAnonymization' or mode is null),
  add constraint container_modules_action_only_for_bot_detection check (module = 'botDetection' or action is null);

-- As in 20261128220000_identity_cookie_gtm_environment_etp.sql, with the three modules added (create or replace
-- keeps the grants of 20261123180300_access_control.sql).
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
      -- The defaults are the EdgeConfig schema's (cookieKeeper's cookies, maxAgeDays and httpOnly; mode; action).
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
          where m.container_id = c.id and m.module = 'adblockDetection'), false)),
      'geoHeaders', jsonb_build_object('enabled', coalesce(
        (select m.enabled from public.container_modules m
          where m.container_id = c.id and m.module = 'geoHeaders'), false)),
      'ipAnonymization', (
        select jsonb_build_object('enabled', coalesce(m.enabled, false), 'mode', coalesce(m.mode, 'truncate'))
        from (select 1) as one
        left join public.container_modules m on m.container_id = c.id and m.module = 'ipAnonymization'),
      'botDetection', (
        select jsonb_build_object('enabled', coalesce(m.enabled, false), 'action', coalesce(m.action, 'tag'))
        from (select 1) as one
        left join public.container_modules m on m.container_id = c.id and m.module = 'botDetection')),
    'proxyPath', c.proxy_path,
    'proxyParam', c.proxy_param,
    'loaderPath', c.loader_path)
    -- Present only when set: the schema has no default for it.
    || case when c.gtm_auth is null then '{}'::jsonb
       else jsonb_build_object('gtmEnvironment', jsonb_build_object('auth', c.gtm_auth, 'preview', c.gtm_preview)) end
  from public.containers c
  where c.id = p_container_id
$$;
