-- Route demand: how often each route (origin-destination) was searched, so the flight-search
-- cache warm endpoint prefetches the routes people actually ask for.
--
-- The counts ride in the existing metrics flush: each function_metrics row carries the route
-- counts its isolate aggregated for that function/path/minute, so recording demand adds no
-- statement (still one INSERT per flush) and inherits the table's row level security
-- (service_role only). monitoring.top_routes() sums them over a window.

-- True for an object whose keys are routes ("JFK-ORD") and whose values are positive integers.
create function monitoring.is_route_demand(doc jsonb) returns boolean
language sql immutable parallel safe
as $$
  select jsonb_typeof(doc) = 'object'
     and not exists (
       select 1
       from jsonb_each(doc) as e (route, searches)
       where e.route !~ '^[A-Z]{3}-[A-Z]{3}$'
          or jsonb_typeof(e.searches) <> 'number'
          or e.searches::numeric < 1
          or e.searches::numeric <> trunc(e.searches::numeric))
$$;

alter table monitoring.function_metrics
  add column route_demand jsonb
  check (route_demand is null or monitoring.is_route_demand(route_demand));
comment on column monitoring.function_metrics.route_demand is
  'Searches per route ("JFK-ORD": 12) the isolate saw in this row''s function/path/minute; null if none.';

-- The most searched routes of a function among rows flushed at or after p_since, most searched
-- first (ties by route, so the answer is stable). Runs with the caller's rights: the table's row
-- level security applies.
create function monitoring.top_routes(p_function text, p_since timestamptz, p_limit integer)
returns table (origin text, destination text, searches bigint)
language sql stable
as $$
  select split_part(d.route, '-', 1), split_part(d.route, '-', 2), sum(d.searches::bigint)
  from monitoring.function_metrics m
  cross join lateral jsonb_each_text(m.route_demand) as d (route, searches)
  where m.function_name = p_function
    and m.flushed_at >= p_since
    and m.route_demand is not null
  group by d.route
  order by 3 desc, d.route
  limit greatest(p_limit, 0)
$$;
comment on function monitoring.top_routes(text, timestamptz, integer) is
  'Most searched routes of a function since a time (cache warming).';

revoke all on function monitoring.top_routes(text, timestamptz, integer)
  from public, anon, authenticated;
grant execute on function monitoring.top_routes(text, timestamptz, integer) to service_role;
