-- One statement per wave of the optimized flight search: every leg of every search in the wave,
-- their flights, those flights' fares and the airports and airlines they refer to, as one result
-- (a `kind` column says which of the four a row is; the other kinds' columns are null).
--
-- A PL/pgSQL function rather than the same statement sent inline: PL/pgSQL caches the plan of
-- its statement per server connection, so behind Supavisor's transaction pooler, where the
-- client may not keep a prepared statement, the server still plans it once per connection
-- instead of once per wave; the client sends only a short call. Being SECURITY INVOKER, it reads
-- the tables with the caller's rights and row level security.
--
-- The flights CTE is materialised once and read three times; fares come from one index-only
-- scan of fares_flight_cabin_idx over the array of flight ids (`= any(array(...))`), which the
-- planner keeps index-only where a join per flight would probe the index once per flight.
--
-- Parameters are named p_* so that `tests/integration/search_wave_plan_test.ts` can EXPLAIN the
-- statement read from pg_proc with the parameters in their place.

create function public.search_wave(
  p_origins text[],
  p_destinations text[],
  p_dates date[],
  p_cabins text[],
  p_min_seats integer
)
returns table (
  kind text,
  flight_id bigint,
  airline_code text,
  flight_number integer,
  origin text,
  destination text,
  departure_date text,
  departure_at timestamptz,
  arrival_at timestamptz,
  aircraft text,
  status text,
  cabin text,
  fare_class text,
  price_minor integer,
  currency text,
  seats_left smallint,
  refundable boolean,
  code text,
  name text,
  city text,
  country_code text,
  time_zone text,
  alliance text
)
language plpgsql
stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
with flight as materialized (
  select f.id, f.airline_code, f.flight_number, f.origin, f.destination, f.departure_date,
         f.departure_at, f.arrival_at, f.aircraft, f.status
    from unnest(p_origins, p_destinations, p_dates) as leg(origin, destination, departure_date)
    join public.flights f
      on f.origin = leg.origin and f.destination = leg.destination
     and f.departure_date = leg.departure_date
   where f.status <> 'cancelled'
)
select 'flight'::text, fl.id, fl.airline_code, fl.flight_number, fl.origin, fl.destination,
       fl.departure_date::text, fl.departure_at, fl.arrival_at, fl.aircraft, fl.status,
       null::text, null::text, null::integer, null::text, null::smallint, null::boolean,
       null::text, null::text, null::text, null::text, null::text, null::text
  from flight fl
union all
select 'fare', fa.flight_id, null, null, null, null, null, null, null, null, null,
       fa.cabin, fa.fare_class, fa.price_minor, fa.currency, fa.seats_left, fa.refundable,
       null, null, null, null, null, null
  from public.fares fa
 where fa.flight_id = any(array(select fl.id from flight fl))
   and fa.cabin = any(p_cabins)
   and fa.seats_left >= p_min_seats
union all
select 'airport', null, null, null, null, null, null, null, null, null, null,
       null, null, null, null, null, null,
       a.iata_code, a.name, a.city, a.country_code, a.time_zone, null
  from public.airports a
 where a.iata_code = any(array(select fl.origin from flight fl
                               union select fl.destination from flight fl))
union all
select 'airline', null, null, null, null, null, null, null, null, null, null,
       null, null, null, null, null, null,
       l.iata_code, l.name, null, l.country_code, null, l.alliance
  from public.airlines l
 where l.iata_code = any(array(select distinct fl.airline_code from flight fl));
end;
$$;

comment on function public.search_wave(text[], text[], date[], text[], integer) is
  'Flights (not cancelled) of the legs origins[i] -> destinations[i] on dates[i], their fares in cabins with seats_left >= min_seats, and the airports and airlines they refer to: one statement per wave of the optimized flight search.';

revoke all on function public.search_wave(text[], text[], date[], text[], integer) from public;
grant execute on function public.search_wave(text[], text[], date[], text[], integer)
  to anon, authenticated, service_role;
