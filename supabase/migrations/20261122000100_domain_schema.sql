-- Domain schema for flight search: airports, airlines, flights, fares.
--
-- Applies on hosted Supabase and on plain Postgres 17 alike. It relies on Supabase's roles
-- (anon, authenticated, service_role) existing; the local stack creates them on plain Postgres
-- before it pushes. This migration never creates roles.

create table public.airports (
  iata_code    text primary key check (iata_code ~ '^[A-Z]{3}$'),
  name         text not null check (length(name) between 1 and 200),
  city         text not null check (length(city) between 1 and 120),
  country_code text not null check (country_code ~ '^[A-Z]{2}$'),
  -- IANA zone name; the local departure date of a flight is computed in this zone.
  time_zone    text not null check (length(time_zone) between 3 and 64),
  latitude     double precision not null check (latitude between -90 and 90),
  longitude    double precision not null check (longitude between -180 and 180)
);
comment on table public.airports is 'Airports by IATA code, with the IANA time zone used for local dates.';

create table public.airlines (
  iata_code    text primary key check (iata_code ~ '^[A-Z0-9]{2}$'),
  name         text not null check (length(name) between 1 and 200),
  country_code text not null check (country_code ~ '^[A-Z]{2}$'),
  alliance     text check (alliance in ('star_alliance', 'oneworld', 'skyteam'))
);
comment on table public.airlines is 'Operating carriers by IATA designator.';

create table public.flights (
  id             bigint generated always as identity primary key,
  airline_code   text not null references public.airlines (iata_code),
  flight_number  integer not null check (flight_number between 1 and 9999),
  origin         text not null references public.airports (iata_code),
  destination    text not null references public.airports (iata_code),
  departure_at   timestamptz not null,
  arrival_at     timestamptz not null,
  -- The calendar date of departure in the origin airport's time zone: what a traveller searches
  -- by. Set by a trigger from airports.time_zone so it can never disagree with departure_at.
  departure_date date not null,
  aircraft       text check (aircraft is null or length(aircraft) between 2 and 40),
  status         text not null default 'scheduled'
                 check (status in ('scheduled', 'delayed', 'cancelled')),
  constraint flights_distinct_airports check (origin <> destination),
  constraint flights_arrives_after_departure check (arrival_at > departure_at),
  constraint flights_duration_plausible check (arrival_at - departure_at <= interval '20 hours'),
  constraint flights_number_per_day unique (airline_code, flight_number, departure_date)
);
comment on table public.flights is 'Scheduled flight legs; departure_date is local to the origin airport.';

create function public.flights_set_departure_date() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  zone text;
begin
  select a.time_zone into zone from public.airports a where a.iata_code = new.origin;
  if zone is null then
    raise foreign_key_violation using message = format('unknown origin airport %s', new.origin);
  end if;
  new.departure_date := (new.departure_at at time zone zone)::date;
  return new;
end;
$$;

create trigger flights_set_departure_date
  before insert or update of origin, departure_at on public.flights
  for each row execute function public.flights_set_departure_date();

create table public.fares (
  id           bigint generated always as identity primary key,
  flight_id    bigint not null references public.flights (id) on delete cascade,
  cabin        text not null check (cabin in ('economy', 'premium_economy', 'business', 'first')),
  fare_class   text not null check (fare_class ~ '^[A-Z]$'),
  price_minor  integer not null check (price_minor > 0),
  currency     text not null check (currency ~ '^[A-Z]{3}$'),
  seats_left   smallint not null check (seats_left >= 0),
  refundable   boolean not null default false,
  constraint fares_one_per_class unique (flight_id, cabin, fare_class)
);
comment on table public.fares is 'Bookable fares of a flight; price in minor units of currency.';

-- Search: origin + destination + local date, ordered by departure. Covering, so the flights
-- query of both paths is an index-only lookup for the columns it returns.
create index flights_route_date_idx on public.flights
  (origin, destination, departure_date, departure_at)
  include (id, airline_code, flight_number, arrival_at, aircraft, status);

-- Fares by flight: the unique constraint's index leads with flight_id; this one covers the
-- columns the search returns so fares for a batch of flights come from the index alone.
create index fares_flight_cabin_idx on public.fares (flight_id, cabin)
  include (fare_class, price_minor, currency, seats_left, refundable);

-- seats_left changes on every booking: leave room for HOT updates and vacuum/analyze sooner
-- than the defaults, which are tuned for far larger, colder tables.
alter table public.fares set (
  fillfactor = 90,
  autovacuum_vacuum_scale_factor = 0.05,
  autovacuum_analyze_scale_factor = 0.02
);
alter table public.flights set (
  autovacuum_vacuum_scale_factor = 0.05,
  autovacuum_analyze_scale_factor = 0.02
);

-- Row level security: reference data is readable by everyone, writable only by service_role
-- (which bypasses RLS on Supabase; the explicit policies below keep that true on any Postgres).
alter table public.airports enable row level security;
alter table public.airlines enable row level security;
alter table public.flights enable row level security;
alter table public.fares enable row level security;

create policy airports_read on public.airports for select to anon, authenticated using (true);
create policy airlines_read on public.airlines for select to anon, authenticated using (true);
create policy flights_read on public.flights for select to anon, authenticated using (true);
create policy fares_read on public.fares for select to anon, authenticated using (true);

create policy airports_write on public.airports for all to service_role using (true) with check (true);
create policy airlines_write on public.airlines for all to service_role using (true) with check (true);
create policy flights_write on public.flights for all to service_role using (true) with check (true);
create policy fares_write on public.fares for all to service_role using (true) with check (true);

revoke all on public.airports, public.airlines, public.flights, public.fares from anon, authenticated;
grant select on public.airports, public.airlines, public.flights, public.fares to anon, authenticated;
grant all on public.airports, public.airlines, public.flights, public.fares to service_role;
revoke all on function public.flights_set_departure_date() from public, anon, authenticated;
