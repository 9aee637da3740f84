-- config_version and the outbox. Rule: a transaction that changes a container's EdgeConfig bumps its
-- config_version exactly once and writes exactly one outbox row for it, however many rows or statements it
-- touches (a container created together with its hosts and modules is one version). A deletion is its own change
-- and gets the next version after the last one.
--
-- How: child tables (hosts, token, entitlements, modules) use statement-level triggers with transition tables, so
-- a statement touching many rows "touches" each affected container once; a touch is an UPDATE of the container
-- row. The containers BEFORE UPDATE trigger turns any EdgeConfig-relevant change (or a touch) into
-- old.config_version + 1, but only once per transaction (config_txid); the AFTER trigger writes the outbox row
-- when the version moved. All functions are SECURITY DEFINER so that whoever may edit a config table also gets
-- its outbox row, without needing privileges on the outbox.

create function edge_internal.containers_before_insert() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  new.config_version := coalesce(
    (select t.config_version from public.edge_tombstones t where t.container_id = new.id), 0) + 1;
  new.config_txid := txid_current();
  new.created_at := now();
  new.updated_at := now();
  return new;
end
$$;

create function edge_internal.containers_before_update() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if new.id <> old.id then
    raise exception 'container id cannot change (% -> %): create a new container instead', old.id, new.id
      using errcode = 'check_violation';
  end if;
  new.created_at := old.created_at;
  -- Nothing the EdgeConfig contains changed and nobody touched the version: not a config change.
  if (new.upstream, new.gtm_id, new.allowed_origins, new.proxy_path, new.proxy_param, new.loader_path, new.config_version)
     is not distinct from
     (old.upstream, old.gtm_id, old.allowed_origins, old.proxy_path, old.proxy_param, old.loader_path, old.config_version)
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

create function edge_internal.containers_outbox_upsert() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  insert into public.edge_outbox (container_id, config_version, op) values (new.id, new.config_version, 'upsert');
  return null;
end
$$;

create function edge_internal.containers_after_delete() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  insert into public.edge_tombstones (container_id, config_version) values (old.id, old.config_version + 1)
  on conflict (container_id) do update set config_version = excluded.config_version, deleted_at = now();
  insert into public.edge_outbox (container_id, config_version, op) values (old.id, old.config_version + 1, 'delete');
  return null;
end
$$;

-- A new container gets a random loader token (rotate it with an UPDATE of loader_tokens).
create function edge_internal.containers_create_loader_token() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  insert into public.loader_tokens (token, container_id)
  values ('lt_' || replace(gen_random_uuid()::text, '-', ''), new.id);
  return null;
end
$$;

create trigger containers_before_insert before insert on public.containers
  for each row execute function edge_internal.containers_before_insert();
create trigger containers_before_update before update on public.containers
  for each row execute function edge_internal.containers_before_update();
create trigger containers_outbox_insert after insert on public.containers
  for each row execute function edge_internal.containers_outbox_upsert();
create trigger containers_outbox_update after update on public.containers
  for each row when (new.config_version is distinct from old.config_version)
  execute function edge_internal.containers_outbox_upsert();
create trigger containers_outbox_delete after delete on public.containers
  for each row execute function edge_internal.containers_after_delete();
create trigger containers_create_loader_token after insert on public.containers
  for each row execute function edge_internal.containers_create_loader_token();

-- Statement-level: one touch per affected container per statement. An UPDATE that leaves a row as it was is not
-- a change (rows present identically on both sides are ignored); an UPDATE moving a row to another container
-- touches both.
create function edge_internal.touch_containers() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  touched text[];
begin
  if tg_op = 'INSERT' then
    select array_agg(distinct container_id) into touched from new_rows;
  elsif tg_op = 'DELETE' then
    select array_agg(distinct container_id) into touched from old_rows;
  else
    select array_agg(distinct container_id) into touched from (
      (select * from new_rows except all select * from old_rows)
      union all
      (select * from old_rows except all select * from new_rows)
    ) as changed;
  end if;
  -- Containers already bumped in this transaction are skipped here; the BEFORE UPDATE trigger would not bump them
  -- again anyway, this only saves the row update.
  update public.containers c
     set config_version = c.config_version + 1
   where c.id = any (touched)
     and c.config_txid is distinct from txid_current();
  return null;
end
$$;

do $$
declare
  child text;
begin
  foreach child in array array['container_hosts', 'loader_tokens', 'container_entitlements', 'container_modules'] loop
    execute format('create trigger %1$s_touch_insert after insert on public.%1$I referencing new table as new_rows
                      for each statement execute function edge_internal.touch_containers()', child);
    execute format('create trigger %1$s_touch_update after update on public.%1$I
                      referencing old table as old_rows new table as new_rows
                      for each statement execute function edge_internal.touch_containers()', child);
    execute format('create trigger %1$s_touch_delete after delete on public.%1$I referencing old table as old_rows
                      for each statement execute function edge_internal.touch_containers()', child);
  end loop;
end
$$;

-- TRUNCATE fires no row or transition-table triggers, so it would change configs without an outbox row.
create function edge_internal.refuse_truncate() returns trigger
language plpgsql set search_path = ''
as $$
begin
  raise exception 'TRUNCATE of %.% bypasses the edge outbox: use DELETE', tg_table_schema, tg_table_name
    using errcode = 'feature_not_supported';
end
$$;

do $$
declare
  config_table text;
begin
  foreach config_table in array
    array['containers', 'container_hosts', 'loader_tokens', 'container_entitlements', 'container_modules'] loop
    execute format('create trigger %1$s_refuse_truncate before truncate on public.%1$I
                      for each statement execute function edge_internal.refuse_truncate()', config_table);
  end loop;
end
$$;

-- The edge rejects a config without hosts, so the database does too, checked at commit so that a container and
-- its hosts can be written by separate statements of one transaction.
create function edge_internal.assert_container_has_host() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  container text;
begin
  -- NEW has no container_id on containers (and is null on a host DELETE), so pick the field by table.
  if tg_table_name = 'containers' then
    container := new.id;
  else
    container := old.container_id;
  end if;
  if exists (select 1 from public.containers c where c.id = container)
     and not exists (select 1 from public.container_hosts h where h.container_id = container) then
    raise exception 'container % needs at least one infra or public host', container
      using errcode = 'check_violation';
  end if;
  return null;
end
$$;

create constraint trigger containers_need_a_host after insert on public.containers
  deferrable initially deferred for each row execute function edge_internal.assert_container_has_host();
create constraint trigger container_hosts_keep_one after update or delete on public.container_hosts
  deferrable initially deferred for each row execute function edge_internal.assert_container_has_host();
