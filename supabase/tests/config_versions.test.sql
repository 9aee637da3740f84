-- config_version only grows: every committed change of a container's EdgeConfig is the next version, a version a
-- client writes (lower or higher) is replaced by the next one, and a container re-created after its deletion
-- continues above the version its removal was given. Versions move once per *transaction*, so this file commits
-- its steps one by one (no wrapping transaction) and removes what it made at the end.
create extension if not exists pgtap;

select plan(9);

begin;
insert into public.containers (id, upstream, gtm_id) values ('pgtap-grow', 'https://sgtm.grow.example', 'GTM-GROW01');
insert into public.container_hosts (kind, host, container_id) values ('infra', 'pgtap-grow.edge.example', 'pgtap-grow');
commit;
select is((select config_version from public.containers where id = 'pgtap-grow'), 1::bigint,
  'a new container starts at version 1, however many rows its transaction wrote');

update public.containers set upstream = 'https://sgtm2.grow.example' where id = 'pgtap-grow';
select is((select config_version from public.containers where id = 'pgtap-grow'), 2::bigint,
  'a committed change is the next version');

update public.containers set config_version = 1 where id = 'pgtap-grow';
select is((select config_version from public.containers where id = 'pgtap-grow'), 3::bigint,
  'a lower version written by a client is replaced by the next one');

update public.containers set config_version = 1000 where id = 'pgtap-grow';
select is((select config_version from public.containers where id = 'pgtap-grow'), 4::bigint,
  'a higher version written by a client is replaced by the next one too (no gaps to skip over)');

update public.containers set upstream = upstream where id = 'pgtap-grow';
select is((select config_version from public.containers where id = 'pgtap-grow'), 4::bigint,
  'an update that changes nothing is not a version');

begin;
update public.containers set gtm_id = 'GTM-GROW02' where id = 'pgtap-grow';
insert into public.container_hosts (kind, host, container_id) values ('public', 'ss.grow.example', 'pgtap-grow');
commit;
select is((select config_version from public.containers where id = 'pgtap-grow'), 5::bigint,
  'several statements in one transaction are one version');

delete from public.containers where id = 'pgtap-grow';
select is((select config_version from public.edge_outbox where container_id = 'pgtap-grow' and op = 'delete'), 6::bigint,
  'the removal is the next version after the last one');

begin;
insert into public.containers (id, upstream, gtm_id) values ('pgtap-grow', 'https://sgtm.grow.example', 'GTM-GROW01');
insert into public.container_hosts (kind, host, container_id) values ('infra', 'pgtap-grow.edge.example', 'pgtap-grow');
commit;
select is((select config_version from public.containers where id = 'pgtap-grow'), 7::bigint,
  'a container re-created under the same id continues above its removal');

select is(
  (select array_agg(config_version order by id) from public.edge_outbox where container_id = 'pgtap-grow'),
  array[1, 2, 3, 4, 5, 6, 7]::bigint[],
  'the outbox holds one row per version, in increasing order');

select * from finish();

-- Leave the database as it was (TRUNCATE is refused by design; DELETE writes a removal, cleaned up here too).
delete from public.containers where id = 'pgtap-grow';
delete from public.edge_outbox where container_id = 'pgtap-grow';
delete from public.edge_tombstones where container_id = 'pgtap-grow';
