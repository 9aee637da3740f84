-- The demo containers of demo/containers.example.json, for a local Supabase (`supabase db reset` runs this after
-- the migrations). Each container is one transaction: a container needs a host at commit, and everything written
-- in one transaction is one config version with one outbox row. The upstream is the local stand-in sGTM origin
-- (`npm start` serves it on :8790).

begin;
insert into public.containers (id, upstream, gtm_id, allowed_origins)
values ('demo-shop', 'http://127.0.0.1:8790', 'GTM-DEMO01',
        array['http://shop.localhost:8787', 'http://demo-shop.localhost:8787']);
insert into public.container_hosts (kind, host, container_id) values
  ('infra', 'demo-shop.edge.localhost', 'demo-shop'),
  ('infra', 'localhost', 'demo-shop'),
  ('public', 'ss.demo-shop.localhost', 'demo-shop'),
  ('public', 'shop.localhost/metrics', 'demo-shop');
-- A new container gets a random token; the demo's is fixed so its URLs can be printed.
update public.loader_tokens set token = 'lt_demo_shop' where container_id = 'demo-shop';
insert into public.container_entitlements (container_id, entitlement) values
  ('demo-shop', 'adblock_detection'),
  ('demo-shop', 'cookie_restoration');
insert into public.container_modules (container_id, module, enabled, cookies, max_age_days, http_only) values
  ('demo-shop', 'cookieKeeper', true, array['_ga', '_ga_*', '_fbp', 'FPID'], 395, array['FPID']),
  ('demo-shop', 'cookieRestoration', true, null, null, null),
  ('demo-shop', 'adblockDetection', true, null, null, null);
commit;

begin;
insert into public.containers (id, upstream, gtm_id, proxy_path, proxy_param, loader_path)
values ('demo-basic', 'http://127.0.0.1:8790', 'GTM-DEMO02', '/t7/', 'q', '/js/');
insert into public.container_hosts (kind, host, container_id) values
  ('infra', 'demo-basic.edge.localhost', 'demo-basic'),
  ('public', 'ss.demo-basic.localhost', 'demo-basic');
update public.loader_tokens set token = 'lt_demo_basic' where container_id = 'demo-basic';
commit;
