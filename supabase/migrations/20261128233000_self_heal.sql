-- Self-healing without a nightly scan (docs/self-healing.md): the outbox sweeper's RPCs, and the owner of a routing
-- key for a live-traffic miss.
--
-- Outbox delivery that cannot be lost. Supabase's Database Webhooks go through pg_net, which sends once after
-- commit and never retries, so the edge also sweeps: a Cron Trigger on the control Worker calls
-- edge_outbox_pending every minute, enqueues what it gets, and acknowledges the rows with
-- edge_outbox_mark_delivered once the queue accepted them. The webhook path acknowledges its own row the same way.
-- Both are called as RPC (POST /rest/v1/rpc/<fn>) with the service-role key.

-- Rows not yet acknowledged, oldest first. p_min_age_seconds leaves a fresh row to its webhook, so a sweep that
-- runs while the webhook is in flight does not send the same change twice (a second send would be harmless,
-- only wasted). One index-only range scan on edge_outbox_undelivered: an idle sweep costs next to nothing.
create function public.edge_outbox_pending(p_limit integer default 100, p_min_age_seconds integer default 10)
returns table (id bigint, container_id text, config_version bigint, op text, created_at timestamptz)
language sql stable security invoker set search_path = ''
as $$
  select o.id, o.container_id, o.config_version, o.op, o.created_at
    from public.edge_outbox o
   where o.delivered_at is null
     and o.created_at <= now() - make_interval(secs => greatest(p_min_age_seconds, 0))
   order by o.id
   limit least(greatest(coalesce(p_limit, 100), 1), 1000)
$$;

-- Acknowledges rows the edge accepted. Idempotent: a row already acknowledged keeps its first delivered_at, and
-- the count says how many rows this call changed.
create function public.edge_outbox_mark_delivered(p_ids bigint[]) returns integer
language sql volatile security invoker set search_path = ''
as $$
  with marked as (
    update public.edge_outbox o
       set delivered_at = now()
     where o.id = any (p_ids)
       and o.delivered_at is null
    returning 1
  )
  select count(*)::integer from marked
$$;

-- The container a routing key belongs to: a host (infra or public, or one with a same-origin mount below it) or a
-- loader token; null when no container names it. The edge asks when live traffic misses a key in KV, so that the
-- owner's Durable Object rewrites its keys. An infra host wins over a public one, as ROUTING_MAP wins over
-- SITE_REGISTRY at the edge.
create function public.edge_key_owner(p_key text) returns text
language sql stable security invoker set search_path = ''
as $$
  select coalesce(
    (select h.container_id from public.container_hosts h
      where h.host = p_key or h.host like replace(replace(replace(p_key, '\', '\\'), '%', '\%'), '_', '\_') || '/%'
      order by h.kind, h.host limit 1),
    (select t.container_id from public.loader_tokens t where t.token = p_key))
$$;
-- The primary key leads with `kind`; a miss looks a host up by itself.
create index container_hosts_host on public.container_hosts (host text_pattern_ops);

revoke all on function public.edge_outbox_pending(integer, integer) from public;
revoke all on function public.edge_outbox_mark_delivered(bigint[]) from public;
revoke all on function public.edge_key_owner(text) from public;

do $$
declare
  client_role text;
begin
  foreach client_role in array array['anon', 'authenticated'] loop
    if exists (select 1 from pg_roles where rolname = client_role) then
      execute format('revoke all on function public.edge_outbox_pending(integer, integer) from %I', client_role);
      execute format('revoke all on function public.edge_outbox_mark_delivered(bigint[]) from %I', client_role);
      execute format('revoke all on function public.edge_key_owner(text) from %I', client_role);
    end if;
  end loop;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    -- service_role already reads edge_outbox and may update delivered_at (access_control migration).
    grant execute on function public.edge_outbox_pending(integer, integer) to service_role;
    grant execute on function public.edge_outbox_mark_delivered(bigint[]) to service_role;
    grant execute on function public.edge_key_owner(text) to service_role;
  end if;
end
$$;
