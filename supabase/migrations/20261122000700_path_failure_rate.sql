-- The canary's error signal in SQL: monitoring.path_summary gains failure_rate.
--
-- When the optimized path fails a request, flight-search answers it on the legacy path (200, a
-- fallback) unless the failure is a 5xx. error_rate counts only 5xx — what people saw — so a
-- broken optimized path hidden by the fallback would pass a gate on error_rate. failure_rate is
-- (5xx + fallbacks) / requests: every request the path itself failed. The rollout CLI's analysis
-- judges the optimized path's SLA error_rate on it, so the metric math stays here, in one place.
-- Only the optimized path records fallbacks; for the legacy path failure_rate equals error_rate.
--
-- A function's result columns cannot change in place: drop and re-create it (same arguments,
-- same columns first, failure_rate last so `select *` readers keep their column positions), then
-- restore its grants.

drop function monitoring.path_summary(text, timestamptz, timestamptz);

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
  fallbacks bigint,
  failure_rate double precision
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
    s.fallbacks,
    (s.server_errors + s.fallbacks) / nullif(s.requests, 0)::double precision
  from sums s
  order by s.path;
end;
$$;
comment on function monitoring.path_summary(text, timestamptz, timestamptz) is
  'Per path of one function over the rows flushed in [p_since, p_until): the canary analysis input. failure_rate = (5xx + fallbacks) / requests.';

revoke all on function monitoring.path_summary(text, timestamptz, timestamptz)
  from public, anon, authenticated;
grant execute on function monitoring.path_summary(text, timestamptz, timestamptz) to service_role;
