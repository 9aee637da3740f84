-- A container's EdgeConfig as the edge stores it (schemas/edge-config.ts, CONTRACT.md "EdgeConfig"): every field
-- present, defaults filled in, arrays in a stable order, so the edge's schema passes it unchanged and two reads of
-- the same version are byte-identical (the sync consumer writes a KV key only when its value differs).
-- Null when the container does not exist. The sync consumer calls it as RPC: POST /rest/v1/rpc/get_edge_config
-- {"p_container_id": "..."}. Version and content come from one snapshot, so they always belong together.
create function public.get_edge_config(p_container_id text) returns jsonb
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
  from public.containers c
  where c.id = p_container_id
$$;
