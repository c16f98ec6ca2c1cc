-- Traffic-routing flags with an append-only, trigger-filled history.
--
-- Only service_role (and the postgres owner, e.g. the rollout CLI over the direct connection)
-- may change a flag. Every change lands in feature_flag_history with who and why.

create table public.feature_flags (
  flag_key           text primary key check (flag_key ~ '^[a-z][a-z0-9_]{2,62}$'),
  enabled            boolean not null default false,
  traffic_percentage smallint not null default 0 check (traffic_percentage between 0 and 100),
  updated_at         timestamptz not null default now(),
  updated_by         text not null default current_user check (length(updated_by) between 1 and 200),
  reason             text not null check (length(reason) between 1 and 500)
);
comment on table public.feature_flags is
  'Traffic-routing flags; traffic_percentage of sticky user buckets take the flagged path when enabled.';

create table public.feature_flag_history (
  id                     bigint generated always as identity primary key,
  flag_key               text not null,
  operation              text not null check (operation in ('INSERT', 'UPDATE', 'DELETE')),
  old_enabled            boolean,
  new_enabled            boolean,
  old_traffic_percentage smallint,
  new_traffic_percentage smallint,
  updated_by             text,
  reason                 text,
  db_user                text not null default session_user,
  changed_at             timestamptz not null default now()
);
create index feature_flag_history_flag_idx on public.feature_flag_history (flag_key, changed_at desc);
comment on table public.feature_flag_history is 'Append-only audit of feature_flags, written by trigger.';

create function public.feature_flags_touch() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

create trigger feature_flags_touch
  before update on public.feature_flags
  for each row execute function public.feature_flags_touch();

create function public.feature_flags_audit() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' then
    insert into public.feature_flag_history
      (flag_key, operation, old_enabled, old_traffic_percentage, updated_by, reason)
    values (old.flag_key, tg_op, old.enabled, old.traffic_percentage, current_user, 'deleted');
    return old;
  end if;
  insert into public.feature_flag_history
    (flag_key, operation, old_enabled, new_enabled, old_traffic_percentage,
     new_traffic_percentage, updated_by, reason)
  values (
    new.flag_key, tg_op,
    case when tg_op = 'UPDATE' then old.enabled end, new.enabled,
    case when tg_op = 'UPDATE' then old.traffic_percentage end, new.traffic_percentage,
    new.updated_by, new.reason
  );
  return new;
end;
$$;

create trigger feature_flags_audit
  after insert or update or delete on public.feature_flags
  for each row execute function public.feature_flags_audit();

create function public.feature_flag_history_append_only() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'feature_flag_history is append-only (% refused)', tg_op
    using errcode = 'insufficient_privilege';
end;
$$;

create trigger feature_flag_history_append_only
  before update or delete on public.feature_flag_history
  for each row execute function public.feature_flag_history_append_only();

alter table public.feature_flags enable row level security;
alter table public.feature_flag_history enable row level security;

create policy feature_flags_service_role on public.feature_flags
  for all to service_role using (true) with check (true);
create policy feature_flag_history_service_role_read on public.feature_flag_history
  for select to service_role using (true);

revoke all on public.feature_flags, public.feature_flag_history from anon, authenticated;
grant select, insert, update, delete on public.feature_flags to service_role;
grant select on public.feature_flag_history to service_role;
revoke all on function public.feature_flags_audit() from public, anon, authenticated;
revoke all on function public.feature_flags_touch() from public, anon, authenticated;
revoke all on function public.feature_flag_history_append_only() from public, anon, authenticated;

insert into public.feature_flags (flag_key, enabled, traffic_percentage, updated_by, reason)
values ('flight_search_optimization', false, 0, 'migration',
        'initial: optimized path off until a rollout enables it');
