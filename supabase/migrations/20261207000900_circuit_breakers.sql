-- Circuit breakers: the state of each isolate's breaker per dependency, upserted by the
-- functions with their metrics flushes, so the dashboard, the alert rules, the Prometheus
-- endpoint and the rollout analysis see a dependency refused fleet-wide, not one isolate's view.

create table monitoring.circuit_breakers (
  function_name        text not null check (function_name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  isolate_id           text not null check (length(isolate_id) between 1 and 64),
  dependency           text not null check (dependency in ('database', 'kms', 'cache')),
  state                text not null check (state in ('closed', 'half_open', 'open')),
  -- Since the isolate started: times it opened, calls it refused.
  opens                bigint not null default 0 check (opens >= 0),
  rejected             bigint not null default 0 check (rejected >= 0),
  consecutive_failures integer not null default 0 check (consecutive_failures >= 0),
  last_opened_at       timestamptz,
  updated_at           timestamptz not null default now(),
  primary key (function_name, isolate_id, dependency)
);
comment on table monitoring.circuit_breakers is
  'One row per isolate and dependency: its breaker as of the isolate''s last flush.';

alter table monitoring.circuit_breakers enable row level security;
create policy circuit_breakers_service_role on monitoring.circuit_breakers
  for all to service_role using (true) with check (true);
revoke all on monitoring.circuit_breakers from anon, authenticated;
grant select, insert, update on monitoring.circuit_breakers to service_role;

-- Per function and dependency, over isolates that flushed in the last two minutes (older rows
-- are isolates that are gone): how many are open, and the opens and refusals they report.
create view monitoring.circuit_breaker_summary with (security_invoker = true) as
select function_name,
       dependency,
       count(*) filter (where state = 'open')      as open_isolates,
       count(*) filter (where state = 'half_open') as half_open_isolates,
       count(*)                                    as isolates,
       sum(opens)::bigint                          as opens,
       sum(rejected)::bigint                       as rejected,
       max(last_opened_at)                         as last_opened_at
  from monitoring.circuit_breakers
 where updated_at > now() - interval '2 minutes'
 group by function_name, dependency;
comment on view monitoring.circuit_breaker_summary is
  'Breakers of live isolates per function and dependency: open ones, opens, refusals.';
revoke all on monitoring.circuit_breaker_summary from anon, authenticated;
grant select on monitoring.circuit_breaker_summary to service_role;
