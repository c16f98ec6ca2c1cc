-- One statement per wave of the optimized flight search: every leg of every search in the wave,
-- their flights, those flights' fares and the airports and airlines they refer to, as one row of
-- four JSON arrays (one array per row, its values in a fixed order: see
-- supabase/functions/flight-search/wave_statement.ts, which reads them).
--
-- One row of JSON rather than rows of all four kinds side by side: measured, sending and parsing
-- ~2,500 rows of 23 mostly-null columns cost more than building and parsing the JSON (see the
-- module doc of wave_statement.ts). Times go out as epoch milliseconds, so the client builds
-- Dates without parsing text; ids as text, exact at any size.
--
-- A PL/pgSQL function rather than the same statement sent inline: PL/pgSQL caches the plan of
-- its statement per server connection, so behind Supavisor's transaction pooler, where the
-- client may not keep a prepared statement, the server still need not plan it for every wave;
-- the client sends only a short call. Being SECURITY INVOKER, it reads the tables with the
-- caller's rights and row level security.
--
-- The flights CTE is materialised once and read four times; fares come from one index-only
-- scan of fares_flight_cabin_idx over the array of flight ids (`= any(array(...))`), measured
-- cheaper than a join probing the index once per flight.
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
returns table (flights json, fares json, airports json, airlines json)
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
select
  (select coalesce(json_agg(json_build_array(
            fl.id::text, fl.airline_code, fl.flight_number, fl.origin, fl.destination, fl.departure_date,
            (extract(epoch from fl.departure_at) * 1000)::int8,
            (extract(epoch from fl.arrival_at) * 1000)::int8, fl.aircraft, fl.status)), '[]')
     from flight fl),
  (select coalesce(json_agg(json_build_array(
            fa.flight_id::text, fa.cabin, fa.fare_class, fa.price_minor, fa.currency, fa.seats_left,
            fa.refundable)), '[]')
     from public.fares fa
    where fa.flight_id = any(array(select fl.id from flight fl))
      and fa.cabin = any(p_cabins)
      and fa.seats_left >= p_min_seats),
  (select coalesce(json_agg(json_build_array(
            a.iata_code, a.name, a.city, a.country_code, a.time_zone)), '[]')
     from public.airports a
    where a.iata_code = any(array(select fl.origin from flight fl
                                  union select fl.destination from flight fl))),
  (select coalesce(json_agg(json_build_array(l.iata_code, l.name, l.country_code, l.alliance)), '[]')
     from public.airlines l
    where l.iata_code = any(array(select distinct fl.airline_code from flight fl)));
end;
$$;

comment on function public.search_wave(text[], text[], date[], text[], integer) is
  'Flights (not cancelled) of the legs origins[i] -> destinations[i] on dates[i], their fares in cabins with seats_left >= min_seats, and the airports and airlines they refer to, as four JSON arrays of arrays: one statement per wave of the optimized flight search.';

revoke all on function public.search_wave(text[], text[], date[], text[], integer) from public;
grant execute on function public.search_wave(text[], text[], date[], text[], integer)
  to anon, authenticated, service_role;
