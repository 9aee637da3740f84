-- The bot verdict of a loader session (EdgeConfig module botDetection; schemas/log-record.ts DetectionRecord `bot`),
-- written by the edge's log consumer. Null: the container's bot detection was not active, so nothing was decided
-- (rows from before this column exist read the same way). Apply before deploying the log consumer that sends it:
-- PostgREST refuses an upsert naming a column it does not know, and the batch would be retried until it does.
alter table public.loader_sessions add column bot boolean;

comment on column public.loader_sessions.bot is
  'Bot verdict (Cloudflare bot score, user-agent list, navigator.webdriver); null when bot detection was off.';

-- The bot share per container and time range, next to the existing (container_id, detected_at) index.
create index loader_sessions_container_bot on public.loader_sessions (container_id, detected_at) where bot;
