-- Who may read configs and write sessions: only the service role (the edge and the replay tool use its key).
-- Row-level security is on for every table and no policy grants anything, so roles without BYPASSRLS see no rows
-- and cannot write any; Supabase's service_role has BYPASSRLS. Supabase also grants anon and authenticated every
-- privilege on new tables and functions in `public` by default: those grants are revoked as a second layer.
-- The role-specific statements are guarded so the migrations also apply to plain PostgreSQL (no such roles).

alter table public.containers enable row level security;
alter table public.container_hosts enable row level security;
alter table public.loader_tokens enable row level security;
alter table public.container_entitlements enable row level security;
alter table public.container_modules enable row level security;
alter table public.edge_outbox enable row level security;
alter table public.edge_tombstones enable row level security;
alter table public.loader_sessions enable row level security;

-- Functions are executable by PUBLIC unless revoked. (edge_internal.all_match stays executable: the check
-- constraints of whoever writes the config tables call it.)
revoke all on function public.get_edge_config(text) from public;

do $$
declare
  client_role text;
begin
  foreach client_role in array array['anon', 'authenticated'] loop
    if exists (select 1 from pg_roles where rolname = client_role) then
      execute format('revoke all on table public.containers, public.container_hosts, public.loader_tokens,
                        public.container_entitlements, public.container_modules, public.edge_outbox,
                        public.edge_tombstones, public.loader_sessions from %I', client_role);
      execute format('revoke all on function public.get_edge_config(text) from %I', client_role);
    end if;
  end loop;

  if exists (select 1 from pg_roles where rolname = 'service_role') then
    -- The sync consumer's RPC, and the replay tool's reads (containers, outbox) and delivered_at updates.
    grant execute on function public.get_edge_config(text) to service_role;
    grant select on table public.containers, public.container_hosts, public.loader_tokens,
      public.container_entitlements, public.container_modules, public.edge_tombstones to service_role;
    grant select, update (delivered_at) on table public.edge_outbox to service_role;
    -- The log consumer's upsert (POST /rest/v1/loader_sessions, Prefer: resolution=merge-duplicates).
    grant select, insert, update on table public.loader_sessions to service_role;
  end if;
end
$$;
