-- edge_key_owner: which container a routing key belongs to, for a live-traffic miss at the edge.
begin;
create extension if not exists pgtap;

select plan(7);

insert into public.containers (id, upstream, gtm_id) values ('pgtap-owner', 'https://sgtm.owner.example', 'GTM-OWNR01');
insert into public.container_hosts (kind, host, container_id) values
  ('infra', 'pgtap-owner.edge.example', 'pgtap-owner'),
  ('public', 'ss.owner.example', 'pgtap-owner'),
  ('public', 'www.owner.example/metrics', 'pgtap-owner');
update public.loader_tokens set token = 'lt_pgtap_owner' where container_id = 'pgtap-owner';
insert into public.containers (id, upstream, gtm_id) values ('pgtap-other', 'https://sgtm.other.example', 'GTM-OTHR01');
insert into public.container_hosts (kind, host, container_id) values
  ('infra', 'shared.edge.example', 'pgtap-other'),
  ('public', 'shared.edge.example', 'pgtap-owner');

select is(public.edge_key_owner('pgtap-owner.edge.example'), 'pgtap-owner', 'an infra host');
select is(public.edge_key_owner('ss.owner.example'), 'pgtap-owner', 'a public host');
select is(public.edge_key_owner('www.owner.example'), 'pgtap-owner', 'a host with a same-origin mount below it');
select is(public.edge_key_owner('lt_pgtap_owner'), 'pgtap-owner', 'a loader token');
select is(public.edge_key_owner('shared.edge.example'), 'pgtap-other', 'an infra host wins over a public one, as at the edge');
select is(public.edge_key_owner('nobody.example'), null, 'a key no container names');
select is(public.edge_key_owner('www_owner.example'), null, 'LIKE wildcards in the key match only themselves');

select * from finish();
rollback;
