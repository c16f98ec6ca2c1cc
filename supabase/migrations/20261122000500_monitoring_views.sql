-- Monitoring views: the one place the metric math lives.
--
-- monitoring.function_metrics holds one row per isolate flush per function/path/minute. The
-- Grafana dashboard, the rollout CLI's canary analysis and the Prometheus `metrics` function all
-- read the objects below instead of keeping their own copy of the sums, ratios and quantiles:
--
--   monitoring.histogram_quantile(q, bounds, counts)  quantile from bucket counts (as Prometheus)
--   monitoring.bucket_sum(integer[] | bigint[])       element-wise sum of histogram arrays
--   monitoring.minute_metrics                         per function, path and minute
--   monitoring.minute_batch_sizes                     batch size distribution per minute
--   monitoring.path_summary(function, since, until)   per path over a window (rollout CLI)
--   monitoring.function_totals (table, by trigger)    per function and path since the first flush
--   monitoring.isolate_memory                         latest resident memory per live isolate
--
-- Ratios are 0..1 and null when their denominator is zero (no traffic is not a 0% error rate).
-- Only service_role (and the owner) may read any of it; the views run with the caller's rights
-- so the table's row level security applies to them too.

-- Resident memory of the isolate when it flushed, so the memory-growth alert has a source. Null
-- when the writer does not report it.
alter table monitoring.function_metrics
  add column memory_rss_bytes bigint check (memory_rss_bytes is null or memory_rss_bytes >= 0);
comment on column monitoring.function_metrics.memory_rss_bytes is
  'Resident set size of the isolate at flush time (Deno.memoryUsage().rss), bytes; null if unknown.';

-- path_summary selects by flush time: consecutive analysis windows then partition the rows
-- exactly, whatever the window length (the canary interval is shorter than a minute bucket).
create index function_metrics_flushed_idx
  on monitoring.function_metrics (function_name, flushed_at);

-- Element-wise sum of histogram arrays ------------------------------------------------------

create function monitoring.bucket_add(acc bigint[], counts integer[]) returns bigint[]
language sql immutable parallel safe
as $$
  select case
    when counts is null then acc
    when acc is null then counts::bigint[]
    else array(
      select coalesce(a, 0) + coalesce(c, 0)
      from unnest(acc, counts) with ordinality as u (a, c, i)
      order by i)
  end
$$;

create function monitoring.bucket_merge(a bigint[], b bigint[]) returns bigint[]
language sql immutable parallel safe
as $$
  select case
    when a is null then b
    when b is null then a
    else array(
      select coalesce(x, 0) + coalesce(y, 0)
      from unnest(a, b) with ordinality as u (x, y, i)
      order by i)
  end
$$;

create aggregate monitoring.bucket_sum(integer[]) (
  sfunc = monitoring.bucket_add,
  stype = bigint[],
  combinefunc = monitoring.bucket_merge,
  parallel = safe
);
comment on aggregate monitoring.bucket_sum(integer[]) is
  'Element-wise sum of histogram bucket arrays (latency_buckets, batch_size_buckets).';

-- The same over already summed arrays (minute_metrics' bigint[] columns), so a dashboard can
-- re-aggregate minutes into wider intervals.
create aggregate monitoring.bucket_sum(bigint[]) (
  sfunc = monitoring.bucket_merge,
  stype = bigint[],
  combinefunc = monitoring.bucket_merge,
  parallel = safe
);
comment on aggregate monitoring.bucket_sum(bigint[]) is
  'Element-wise sum of summed histogram bucket arrays (minute_metrics columns).';

-- Quantile from bucket counts ------------------------------------------------------------------

-- The same estimate as Prometheus's histogram_quantile(): find the bucket holding rank q * total
-- and interpolate linearly inside it, the first bucket starting at 0; a rank in the overflow
-- bucket answers the largest finite bound. `counts` are per bucket (not cumulative) with one more
-- element than `bounds`. Null when there are no observations (Prometheus: NaN); q outside 0..1
-- answers -Infinity/Infinity as Prometheus does. One deliberate difference: q = 0 answers the
-- lower bound of the first non-empty bucket where Prometheus answers NaN if the first is empty.
create function monitoring.histogram_quantile(
  q double precision,
  bounds double precision[],
  counts bigint[]
) returns double precision
language plpgsql immutable strict parallel safe
set search_path = ''
as $$
declare
  n integer := coalesce(cardinality(bounds), 0);
  total double precision := 0;
  cum double precision := 0;
  rank double precision;
  c double precision;
  lower_bound double precision;
begin
  if cardinality(counts) <> n + 1 then
    raise exception 'histogram_quantile: % counts for % bounds (expected bounds + 1)',
      cardinality(counts), n using errcode = 'invalid_parameter_value';
  end if;
  if q < 0 then
    return '-Infinity';
  elsif q > 1 then
    return 'Infinity';
  end if;
  select coalesce(sum(x), 0) into total from unnest(counts) as x;
  if total = 0 then
    return null;
  end if;
  rank := q * total;
  for i in 1 .. n loop
    c := counts[i];
    if c > 0 and cum + c >= rank then
      if i = 1 and bounds[1] <= 0 then
        return bounds[1];
      end if;
      lower_bound := case when i = 1 then 0 else bounds[i - 1] end;
      return lower_bound + (bounds[i] - lower_bound) * ((rank - cum) / c);
    end if;
    cum := cum + c;
  end loop;
  return bounds[n];
end;
$$;
comment on function monitoring.histogram_quantile(double precision, double precision[], bigint[]) is
  'Quantile q (0..1) of a histogram given per-bucket counts, interpolated as Prometheus does.';

-- Per function, path and minute ------------------------------------------------------------------

create view monitoring.minute_metrics with (security_invoker = true) as
with sums as (
  select
    m.bucket_start,
    m.function_name,
    m.path,
    count(distinct m.isolate_id)::integer as isolates,
    sum(m.requests)::bigint as requests,
    sum(m.server_errors)::bigint as server_errors,
    sum(m.client_errors)::bigint as client_errors,
    sum(m.fallbacks)::bigint as fallbacks,
    sum(m.latency_sum_ms) as latency_sum_ms,
    monitoring.bucket_sum(m.latency_buckets) as latency_buckets,
    sum(m.db_queries)::bigint as db_queries,
    sum(m.db_batches)::bigint as db_batches,
    monitoring.bucket_sum(m.batch_size_buckets) as batch_size_buckets,
    sum(m.cache_l1_hits)::bigint as cache_l1_hits,
    sum(m.cache_l1_misses)::bigint as cache_l1_misses,
    sum(m.cache_l2_hits)::bigint as cache_l2_hits,
    sum(m.cache_l2_misses)::bigint as cache_l2_misses,
    -- Every look-up passes L1 first and an L1 miss goes on to L2 (when there is one), so the
    -- look-ups are L1's; greatest() keeps L2-only traffic (L1 disabled) counted.
    sum(m.cache_l1_hits + greatest(m.cache_l1_misses, m.cache_l2_hits + m.cache_l2_misses))::bigint
      as cache_lookups,
    sum(m.kms_requests)::bigint as kms_requests,
    sum(m.kms_new_connections)::bigint as kms_new_connections
  from monitoring.function_metrics m
  group by m.bucket_start, m.function_name, m.path
)
select
  s.bucket_start,
  s.function_name,
  s.path,
  s.isolates,
  s.requests,
  s.server_errors,
  s.client_errors,
  s.fallbacks,
  s.db_queries,
  s.db_batches,
  s.cache_l1_hits,
  s.cache_l1_misses,
  s.cache_l2_hits,
  s.cache_l2_misses,
  s.cache_l1_hits + s.cache_l2_hits as cache_hits,
  s.cache_lookups,
  s.kms_requests,
  s.kms_new_connections,
  s.latency_sum_ms,
  s.latency_buckets,
  s.batch_size_buckets,
  s.requests / 60.0::double precision as request_rate_per_s,
  s.server_errors / nullif(s.requests, 0)::double precision as error_rate,
  s.latency_sum_ms / nullif(s.requests, 0) as latency_avg_ms,
  monitoring.histogram_quantile(0.50, monitoring.latency_bounds_ms(), s.latency_buckets)
    as latency_p50_ms,
  monitoring.histogram_quantile(0.95, monitoring.latency_bounds_ms(), s.latency_buckets)
    as latency_p95_ms,
  monitoring.histogram_quantile(0.99, monitoring.latency_bounds_ms(), s.latency_buckets)
    as latency_p99_ms,
  s.db_queries / nullif(s.requests, 0)::double precision as queries_per_request,
  s.db_queries / 60.0::double precision as db_query_rate_per_s,
  monitoring.histogram_quantile(
    0.50, monitoring.batch_size_bounds()::double precision[], s.batch_size_buckets
  ) as batch_size_p50,
  monitoring.histogram_quantile(
    0.95, monitoring.batch_size_bounds()::double precision[], s.batch_size_buckets
  ) as batch_size_p95,
  s.cache_l1_hits / nullif(s.cache_l1_hits + s.cache_l1_misses, 0)::double precision
    as cache_l1_hit_ratio,
  s.cache_l2_hits / nullif(s.cache_l2_hits + s.cache_l2_misses, 0)::double precision
    as cache_l2_hit_ratio,
  (s.cache_l1_hits + s.cache_l2_hits) / nullif(s.cache_lookups, 0)::double precision
    as cache_hit_ratio,
  1 - s.kms_new_connections / nullif(s.kms_requests, 0)::double precision as kms_reuse_ratio
from sums s;
comment on view monitoring.minute_metrics is
  'Per function, path and minute: sums over isolates and flushes, rates, ratios, latency quantiles.';

-- Batch size distribution: one row per minute, function, path and batch-size bucket.
create view monitoring.minute_batch_sizes with (security_invoker = true) as
select
  m.bucket_start,
  m.function_name,
  m.path,
  b.bucket_index::integer as bucket_index,
  -- Upper bound of the bucket (inclusive); Infinity for the overflow bucket.
  coalesce(
    (monitoring.batch_size_bounds())[b.bucket_index]::double precision, 'Infinity'
  ) as le,
  case
    when b.bucket_index <= cardinality(monitoring.batch_size_bounds())
      then '<= ' || (monitoring.batch_size_bounds())[b.bucket_index]
    else '> ' || (monitoring.batch_size_bounds())[b.bucket_index - 1]
  end as bucket_label,
  b.batches
from monitoring.minute_metrics m
cross join lateral unnest(m.batch_size_buckets) with ordinality as b (batches, bucket_index);
comment on view monitoring.minute_batch_sizes is
  'Coalescer batches per batch-size bucket, per function, path and minute.';

-- Per function and path since the first row: the monotonic counters the Prometheus endpoint
-- exposes. A statement trigger on function_metrics folds every flush into one row per function
-- and path, so a scrape reads a handful of rows however long the detail table grows, and deleting
-- old detail rows (retention) never makes a counter go backwards. Detail rows are append-only:
-- updating one is not reflected here.
create table monitoring.function_totals (
  function_name       text not null,
  path                text not null,
  requests            bigint not null default 0,
  server_errors       bigint not null default 0,
  client_errors       bigint not null default 0,
  fallbacks           bigint not null default 0,
  latency_sum_ms      double precision not null default 0,
  latency_buckets     bigint[] not null,
  db_queries          bigint not null default 0,
  db_batches          bigint not null default 0,
  batch_size_buckets  bigint[] not null,
  cache_l1_hits       bigint not null default 0,
  cache_l1_misses     bigint not null default 0,
  cache_l2_hits       bigint not null default 0,
  cache_l2_misses     bigint not null default 0,
  cache_lookups       bigint not null default 0,
  kms_requests        bigint not null default 0,
  kms_new_connections bigint not null default 0,
  first_flushed_at    timestamptz not null,
  last_flushed_at     timestamptz not null,
  primary key (function_name, path)
);
comment on table monitoring.function_totals is
  'Per function and path since the first flush: monotonic counters, maintained by trigger.';

create function monitoring.function_metrics_accumulate() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Rows are upserted in key order so concurrent flushes lock totals rows in the same order.
  insert into monitoring.function_totals as t (
    function_name, path, requests, server_errors, client_errors, fallbacks, latency_sum_ms,
    latency_buckets, db_queries, db_batches, batch_size_buckets, cache_l1_hits, cache_l1_misses,
    cache_l2_hits, cache_l2_misses, cache_lookups, kms_requests, kms_new_connections,
    first_flushed_at, last_flushed_at
  )
  select
    n.function_name, n.path, sum(n.requests), sum(n.server_errors), sum(n.client_errors),
    sum(n.fallbacks), sum(n.latency_sum_ms), monitoring.bucket_sum(n.latency_buckets),
    sum(n.db_queries), sum(n.db_batches), monitoring.bucket_sum(n.batch_size_buckets),
    sum(n.cache_l1_hits), sum(n.cache_l1_misses), sum(n.cache_l2_hits), sum(n.cache_l2_misses),
    sum(n.cache_l1_hits + greatest(n.cache_l1_misses, n.cache_l2_hits + n.cache_l2_misses)),
    sum(n.kms_requests), sum(n.kms_new_connections), min(n.flushed_at), max(n.flushed_at)
  from inserted n
  group by n.function_name, n.path
  order by n.function_name, n.path
  on conflict (function_name, path) do update set
    requests = t.requests + excluded.requests,
    server_errors = t.server_errors + excluded.server_errors,
    client_errors = t.client_errors + excluded.client_errors,
    fallbacks = t.fallbacks + excluded.fallbacks,
    latency_sum_ms = t.latency_sum_ms + excluded.latency_sum_ms,
    latency_buckets = monitoring.bucket_merge(t.latency_buckets, excluded.latency_buckets),
    db_queries = t.db_queries + excluded.db_queries,
    db_batches = t.db_batches + excluded.db_batches,
    batch_size_buckets = monitoring.bucket_merge(t.batch_size_buckets, excluded.batch_size_buckets),
    cache_l1_hits = t.cache_l1_hits + excluded.cache_l1_hits,
    cache_l1_misses = t.cache_l1_misses + excluded.cache_l1_misses,
    cache_l2_hits = t.cache_l2_hits + excluded.cache_l2_hits,
    cache_l2_misses = t.cache_l2_misses + excluded.cache_l2_misses,
    cache_lookups = t.cache_lookups + excluded.cache_lookups,
    kms_requests = t.kms_requests + excluded.kms_requests,
    kms_new_connections = t.kms_new_connections + excluded.kms_new_connections,
    first_flushed_at = least(t.first_flushed_at, excluded.first_flushed_at),
    last_flushed_at = greatest(t.last_flushed_at, excluded.last_flushed_at);
  return null;
end;
$$;

create trigger function_metrics_accumulate
  after insert on monitoring.function_metrics
  referencing new table as inserted
  for each statement execute function monitoring.function_metrics_accumulate();

-- Rows flushed before this migration count too.
insert into monitoring.function_totals (
  function_name, path, requests, server_errors, client_errors, fallbacks, latency_sum_ms,
  latency_buckets, db_queries, db_batches, batch_size_buckets, cache_l1_hits, cache_l1_misses,
  cache_l2_hits, cache_l2_misses, cache_lookups, kms_requests, kms_new_connections,
  first_flushed_at, last_flushed_at
)
select
  m.function_name, m.path, sum(m.requests), sum(m.server_errors), sum(m.client_errors),
  sum(m.fallbacks), sum(m.latency_sum_ms), monitoring.bucket_sum(m.latency_buckets),
  sum(m.db_queries), sum(m.db_batches), monitoring.bucket_sum(m.batch_size_buckets),
  sum(m.cache_l1_hits), sum(m.cache_l1_misses), sum(m.cache_l2_hits), sum(m.cache_l2_misses),
  sum(m.cache_l1_hits + greatest(m.cache_l1_misses, m.cache_l2_hits + m.cache_l2_misses)),
  sum(m.kms_requests), sum(m.kms_new_connections), min(m.flushed_at), max(m.flushed_at)
from monitoring.function_metrics m
group by m.function_name, m.path;

alter table monitoring.function_totals enable row level security;
create policy function_totals_service_role_read on monitoring.function_totals
  for select to service_role using (true);

-- Latest resident memory of each isolate that flushed in the last five minutes (an isolate that
-- stopped flushing has gone; its series should end rather than linger).
create view monitoring.isolate_memory with (security_invoker = true) as
select distinct on (m.function_name, m.isolate_id)
  m.function_name,
  m.isolate_id,
  m.memory_rss_bytes,
  m.flushed_at
from monitoring.function_metrics m
where m.flushed_at > now() - interval '5 minutes'
  and m.memory_rss_bytes is not null
order by m.function_name, m.isolate_id, m.flushed_at desc, m.id desc;
comment on view monitoring.isolate_memory is
  'Latest resident memory per function isolate among isolates that flushed in the last 5 minutes.';

-- Per path over a window: what the rollout CLI's canary analysis judges -----------------------

-- Rows are selected by flush time in [p_since, p_until), so consecutive windows count every row
-- exactly once. db_query_rate_per_s divides by the window length.
create function monitoring.path_summary(
  p_function text,
  p_since timestamptz,
  p_until timestamptz
) returns table (
  path text,
  requests bigint,
  server_errors bigint,
  error_rate double precision,
  p50_ms double precision,
  p95_ms double precision,
  p99_ms double precision,
  queries_per_request double precision,
  db_query_rate_per_s double precision,
  cache_hit_ratio double precision,
  kms_reuse_ratio double precision,
  fallbacks bigint
)
language plpgsql stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  if p_until <= p_since then
    raise exception 'path_summary: p_until (%) must be after p_since (%)', p_until, p_since
      using errcode = 'invalid_parameter_value';
  end if;
  return query
  with sums as (
    select
      m.path,
      sum(m.requests)::bigint as requests,
      sum(m.server_errors)::bigint as server_errors,
      monitoring.bucket_sum(m.latency_buckets) as latency_buckets,
      sum(m.db_queries)::bigint as db_queries,
      sum(m.cache_l1_hits + m.cache_l2_hits)::bigint as cache_hits,
      sum(m.cache_l1_hits + greatest(m.cache_l1_misses, m.cache_l2_hits + m.cache_l2_misses))::bigint
        as cache_lookups,
      sum(m.kms_requests)::bigint as kms_requests,
      sum(m.kms_new_connections)::bigint as kms_new_connections,
      sum(m.fallbacks)::bigint as fallbacks
    from monitoring.function_metrics m
    where m.function_name = p_function
      and m.flushed_at >= p_since
      and m.flushed_at < p_until
    group by m.path
  )
  select
    s.path,
    s.requests,
    s.server_errors,
    s.server_errors / nullif(s.requests, 0)::double precision,
    monitoring.histogram_quantile(0.50, monitoring.latency_bounds_ms(), s.latency_buckets),
    monitoring.histogram_quantile(0.95, monitoring.latency_bounds_ms(), s.latency_buckets),
    monitoring.histogram_quantile(0.99, monitoring.latency_bounds_ms(), s.latency_buckets),
    s.db_queries / nullif(s.requests, 0)::double precision,
    s.db_queries / extract(epoch from p_until - p_since)::double precision,
    s.cache_hits / nullif(s.cache_lookups, 0)::double precision,
    1 - s.kms_new_connections / nullif(s.kms_requests, 0)::double precision,
    s.fallbacks
  from sums s
  order by s.path;
end;
$$;
comment on function monitoring.path_summary(text, timestamptz, timestamptz) is
  'Per path of one function over the rows flushed in [p_since, p_until): the canary analysis input.';

-- Grants: service_role only -------------------------------------------------------------------

revoke all on monitoring.minute_metrics, monitoring.minute_batch_sizes, monitoring.function_totals,
  monitoring.isolate_memory from public, anon, authenticated;
grant select on monitoring.minute_metrics, monitoring.minute_batch_sizes, monitoring.function_totals,
  monitoring.isolate_memory to service_role;
revoke all on function monitoring.function_metrics_accumulate() from public, anon, authenticated;

revoke all on function monitoring.bucket_add(bigint[], integer[]) from public, anon, authenticated;
revoke all on function monitoring.bucket_merge(bigint[], bigint[]) from public, anon, authenticated;
revoke all on function monitoring.bucket_sum(integer[]) from public, anon, authenticated;
revoke all on function monitoring.bucket_sum(bigint[]) from public, anon, authenticated;
revoke all on function monitoring.histogram_quantile(double precision, double precision[], bigint[])
  from public, anon, authenticated;
revoke all on function monitoring.path_summary(text, timestamptz, timestamptz)
  from public, anon, authenticated;

grant execute on function monitoring.bucket_add(bigint[], integer[]) to service_role;
grant execute on function monitoring.bucket_merge(bigint[], bigint[]) to service_role;
grant execute on function monitoring.bucket_sum(integer[]) to service_role;
grant execute on function monitoring.bucket_sum(bigint[]) to service_role;
grant execute on function monitoring.histogram_quantile(double precision, double precision[], bigint[])
  to service_role;
grant execute on function monitoring.path_summary(text, timestamptz, timestamptz) to service_role;
