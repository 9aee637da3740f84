-- The outbox row is written by the changing transaction itself (a rollback leaves neither the change nor the row),
-- and the sweeper's RPCs: edge_outbox_pending lists unacknowledged rows oldest first, leaving fresh ones to their
-- webhook; edge_outbox_mark_delivered acknowledges them once.
begin;
create extension if not exists pgtap;

select plan(10);

insert into public.containers (id, upstream, gtm_id) values ('pgtap-outbox', 'https://sgtm.outbox.example', 'GTM-OUTB01');
insert into public.container_hosts (kind, host, container_id) values ('infra', 'pgtap-outbox.edge.example', 'pgtap-outbox');

select is((select count(*) from public.edge_outbox where container_id = 'pgtap-outbox'), 1::bigint,
  'the change is visible in the outbox before it commits: one row');
select is(
  (select o.xmin::text from public.edge_outbox o where o.container_id = 'pgtap-outbox'),
  (select c.xmin::text from public.containers c where c.id = 'pgtap-outbox'),
  'the outbox row and the container row were written by the same transaction');

savepoint undone;
update public.containers set upstream = 'https://elsewhere.outbox.example' where id = 'pgtap-outbox';
insert into public.containers (id, upstream, gtm_id) values ('pgtap-rolled', 'https://sgtm.rolled.example', 'GTM-ROLL01');
rollback to savepoint undone;
select is((select count(*) from public.edge_outbox where container_id in ('pgtap-outbox', 'pgtap-rolled')), 1::bigint,
  'a rolled-back change leaves no outbox row');

-- now() is this transaction's start, so the row is 0 seconds old here.
select is((select count(*) from public.edge_outbox_pending(100, 10) where container_id = 'pgtap-outbox'), 0::bigint,
  'a row younger than p_min_age_seconds is left to its webhook');
select is((select count(*) from public.edge_outbox_pending(100, 0) where container_id = 'pgtap-outbox'), 1::bigint,
  'an unacknowledged row is pending');

update public.edge_outbox set created_at = now() - interval '5 minutes' where container_id = 'pgtap-outbox';
insert into public.edge_outbox (container_id, config_version, op)
values ('pgtap-outbox', 2, 'upsert'), ('pgtap-outbox', 3, 'delete');
update public.edge_outbox set created_at = now() - interval '1 minute' where container_id = 'pgtap-outbox' and config_version > 1;
select is(
  (select array_agg(config_version order by id) from public.edge_outbox_pending(100, 10) where container_id = 'pgtap-outbox'),
  array[1, 2, 3]::bigint[],
  'pending rows come oldest first');
select is((select count(*) from public.edge_outbox_pending(1, 0)), 1::bigint, 'p_limit bounds the answer');

select is(
  public.edge_outbox_mark_delivered(array(select id from public.edge_outbox where container_id = 'pgtap-outbox' and config_version <= 2)),
  2, 'marking returns how many rows it acknowledged');
select is(
  public.edge_outbox_mark_delivered(array(select id from public.edge_outbox where container_id = 'pgtap-outbox')),
  1, 'marking again changes only the row not yet acknowledged');
select is(
  (select count(*) from public.edge_outbox_pending(100, 0) where container_id = 'pgtap-outbox'), 0::bigint,
  'acknowledged rows are no longer pending');

select * from finish();
rollback;
