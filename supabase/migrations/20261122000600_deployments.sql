-- Rollout archive and lock: one row per deploy run by scripts/deploy-performance-optimizations.sh,
-- and one row per environment while a deploy holds that environment's lock.
--
-- The lock itself is a session-level advisory lock held by the CLI on a direct connection; the
-- row in deployment_locks only tells a second deploy who holds it and since when. A crashed CLI
-- loses its session and with it the advisory lock, so a stale row is simply overwritten by the
-- next deploy that wins the advisory lock.

create table public.deployments (
  id              text primary key check (id ~ '^dep_[0-9]{8}_[0-9]{6}_[a-z0-9]{6}$'),
  environment     text not null check (environment in ('local', 'staging', 'production')),
  flag_key        text not null check (flag_key ~ '^[a-z][a-z0-9_]{2,62}$'),
  from_percentage smallint not null check (from_percentage between 0 and 100),
  -- The last step reached: the target when promoted, 0 after a rollback.
  to_percentage   smallint not null check (to_percentage between 0 and 100),
  steps           smallint[] not null
                  check (cardinality(steps) between 1 and 20 and 0 < all (steps) and 100 >= all (steps)),
  status          text not null default 'running'
                  check (status in ('running', 'promoted', 'rolled_back', 'failed', 'aborted')),
  -- Why it ended as it did (the failing checks for a rollback, the error for a failure).
  reason          text check (reason is null or length(reason) between 1 and 2000),
  started_at      timestamptz not null default now(),
  finished_at     timestamptz,
  started_by      text not null check (length(started_by) between 1 and 200),
  -- The deployment log: options, phases with timings, every analysis check, the outcome.
  log             jsonb not null default '{}'::jsonb,
  constraint deployments_finished_when_done
    check ((status = 'running') = (finished_at is null)),
  constraint deployments_finished_after_start
    check (finished_at is null or finished_at >= started_at)
);
comment on table public.deployments is
  'One row per rollout run (not dry runs): outcome, steps, who, and the full log as JSON.';

create index deployments_environment_started_idx
  on public.deployments (environment, started_at desc);

create table public.deployment_locks (
  environment   text primary key check (environment in ('local', 'staging', 'production')),
  deployment_id text not null,
  holder        text not null check (length(holder) between 1 and 200),
  acquired_at   timestamptz not null default now(),
  -- The backend holding the advisory lock; lets an operator find (and end) a stuck session.
  backend_pid   integer not null default pg_backend_pid()
);
comment on table public.deployment_locks is
  'Who holds the deploy lock of an environment (the lock itself is a session advisory lock).';

alter table public.deployments enable row level security;
alter table public.deployment_locks enable row level security;

create policy deployments_service_role on public.deployments
  for all to service_role using (true) with check (true);
create policy deployment_locks_service_role on public.deployment_locks
  for all to service_role using (true) with check (true);

revoke all on public.deployments, public.deployment_locks from anon, authenticated;
grant select, insert, update on public.deployments to service_role;
grant select, insert, update, delete on public.deployment_locks to service_role;
