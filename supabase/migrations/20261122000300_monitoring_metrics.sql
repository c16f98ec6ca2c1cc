-- Monitoring: per-isolate metric aggregates, flushed in the background by the functions.
--
-- A function isolate aggregates in memory and writes at most one INSERT per flush (one row per
-- function/path/minute it saw traffic for). Readers sum rows over isolates and flushes; the
-- views in a later migration do that math once for the dashboard, the rollout CLI and the
-- Prometheus endpoint.

create schema if not exists monitoring;
comment on schema monitoring is 'Metric aggregates written by the edge functions; read by views.';

-- Upper bounds (inclusive, milliseconds) of the latency histogram buckets; the histogram arrays
-- have one more element than this, the last one counting everything above the largest bound.
-- supabase/functions/_shared/metrics.ts holds the same list; a test checks they agree.
create function monitoring.latency_bounds_ms() returns double precision[]
language sql immutable parallel safe
as $$ select '{1,2,5,10,25,50,75,100,150,200,300,500,750,1000,2500,5000,10000}'::double precision[] $$;

-- Upper bounds (inclusive) of the coalescer batch-size histogram buckets; one more element
-- counts larger batches.
create function monitoring.batch_size_bounds() returns integer[]
language sql immutable parallel safe
as $$ select '{1,2,5,10,20,50,100,200}'::integer[] $$;

create table monitoring.function_metrics (
  id                  bigint generated always as identity primary key,
  bucket_start        timestamptz not null check (bucket_start = date_trunc('minute', bucket_start)),
  function_name       text not null check (function_name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  -- Which code path served the requests: legacy/optimized for flight-search, 'none' otherwise.
  path                text not null check (path in ('legacy', 'optimized', 'none')),
  isolate_id          text not null check (length(isolate_id) between 1 and 64),
  requests            integer not null default 0 check (requests >= 0),
  server_errors       integer not null default 0 check (server_errors >= 0),
  client_errors       integer not null default 0 check (client_errors >= 0),
  fallbacks           integer not null default 0 check (fallbacks >= 0),
  latency_sum_ms      double precision not null default 0 check (latency_sum_ms >= 0),
  latency_buckets     integer[] not null
                      check (cardinality(latency_buckets) = cardinality(monitoring.latency_bounds_ms()) + 1),
  db_queries          integer not null default 0 check (db_queries >= 0),
  db_batches          integer not null default 0 check (db_batches >= 0),
  batch_size_buckets  integer[] not null
                      check (cardinality(batch_size_buckets) = cardinality(monitoring.batch_size_bounds()) + 1),
  cache_l1_hits       integer not null default 0 check (cache_l1_hits >= 0),
  cache_l1_misses     integer not null default 0 check (cache_l1_misses >= 0),
  cache_l2_hits       integer not null default 0 check (cache_l2_hits >= 0),
  cache_l2_misses     integer not null default 0 check (cache_l2_misses >= 0),
  kms_requests        integer not null default 0 check (kms_requests >= 0),
  kms_new_connections integer not null default 0 check (kms_new_connections >= 0),
  flushed_at          timestamptz not null default now()
);
comment on table monitoring.function_metrics is
  'One row per isolate flush per function/path/minute; sum over rows to aggregate.';

create index function_metrics_bucket_idx
  on monitoring.function_metrics (bucket_start, function_name, path);

alter table monitoring.function_metrics set (
  autovacuum_vacuum_scale_factor = 0.05,
  autovacuum_analyze_scale_factor = 0.02
);

alter table monitoring.function_metrics enable row level security;
create policy function_metrics_service_role on monitoring.function_metrics
  for all to service_role using (true) with check (true);

revoke all on schema monitoring from public, anon, authenticated;
grant usage on schema monitoring to service_role;
revoke all on monitoring.function_metrics from anon, authenticated;
grant select, insert on monitoring.function_metrics to service_role;
