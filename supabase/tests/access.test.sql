-- Row-level security and grants: the client roles of a Supabase project (anon, authenticated) can neither read nor
-- write any control-plane table nor call the edge's functions; only service_role (BYPASSRLS) does. Two layers are
-- checked separately: Supabase's default grants are revoked, and with those grants given back, RLS alone still
-- shows no row and refuses every write.
begin;
create extension if not exists pgtap;

select plan(14);

-- Runs `p_sql` as `p_role` and returns the SQLSTATE it failed with (null when it succeeded). pgTAP itself keeps
-- running as the session user, whose temp tables the client roles may not touch.
create function pg_temp.sqlstate_as(p_role text, p_sql text) returns text language plpgsql as $$
begin
  execute format('set local role %I', p_role);
  begin
    execute p_sql;
  exception when others then
    reset role;
    return sqlstate;
  end;
  reset role;
  return null;
end
$$;

-- Rows `p_query` returns for `p_role`.
create function pg_temp.count_as(p_role text, p_query text) returns bigint language plpgsql as $$
declare
  n bigint;
begin
  execute format('set local role %I', p_role);
  execute format('select count(*) from (%s) as q', p_query) into n;
  reset role;
  return n;
end
$$;

insert into public.containers (id, upstream, gtm_id) values ('pgtap-rls', 'https://sgtm.rls.example', 'GTM-RLS001');
insert into public.container_hosts (kind, host, container_id) values ('infra', 'pgtap-rls.edge.example', 'pgtap-rls');

select is(pg_temp.sqlstate_as('anon', 'select * from public.containers'), '42501', 'anon may not read containers');
select is(pg_temp.sqlstate_as('authenticated', 'select * from public.edge_outbox'), '42501', 'authenticated may not read the outbox');
select is(pg_temp.sqlstate_as('anon', $$select public.get_edge_config('pgtap-rls')$$), '42501', 'anon may not call get_edge_config');
select is(pg_temp.sqlstate_as('authenticated', 'select * from public.edge_outbox_pending(100, 0)'), '42501',
  'authenticated may not call edge_outbox_pending');
select is(pg_temp.sqlstate_as('anon', 'select public.edge_outbox_mark_delivered(array[1]::bigint[])'), '42501',
  'anon may not call edge_outbox_mark_delivered');
select is(pg_temp.sqlstate_as('authenticated', $$select public.edge_key_owner('pgtap-rls.edge.example')$$), '42501',
  'authenticated may not call edge_key_owner');
select is(pg_temp.sqlstate_as('authenticated',
  $$insert into public.loader_sessions values ('pgtap-session-1', 'pgtap-rls', 'h', false, false, null, now())$$),
  '42501', 'authenticated may not write loader_sessions');

-- Second layer: give the client roles back Supabase's default table grants; RLS (no policies) still denies.
grant select, insert, update, delete on public.containers, public.container_hosts, public.loader_tokens,
  public.edge_outbox, public.loader_sessions to anon, authenticated;

select is(pg_temp.count_as('anon', 'select * from public.containers'), 0::bigint, 'with grants, RLS shows anon no container');
select is(pg_temp.count_as('authenticated', 'select * from public.edge_outbox'), 0::bigint,
  'with grants, RLS shows authenticated no outbox row');
select is(pg_temp.count_as('anon', 'select * from public.loader_tokens'), 0::bigint, 'with grants, RLS shows anon no loader token');
select is(pg_temp.sqlstate_as('anon',
  $$insert into public.loader_sessions values ('pgtap-session-2', 'pgtap-rls', 'h', false, false, null, now())$$),
  '42501', 'with grants, RLS refuses a write by anon');
select is(pg_temp.sqlstate_as('authenticated', $$update public.containers set gtm_id = 'GTM-OWNED1'$$), null,
  'with grants, an update by authenticated is no error...');
select is((select gtm_id from public.containers where id = 'pgtap-rls'), 'GTM-RLS001', '...and changes no row');

select is(pg_temp.count_as('service_role', $$select * from public.containers where id = 'pgtap-rls'$$), 1::bigint,
  'service_role (BYPASSRLS) reads the container');

select * from finish();
rollback;
