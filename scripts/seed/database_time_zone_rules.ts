/**
 * {@link TimeZoneRules} read from a Postgres server's own tz database — the rules its
 * `at time zone` (and so the flights trigger) applies.
 *
 * @module
 */
import type postgres from "postgres";
import type { TimeZoneRules } from "./time_zone_rules.ts";

/** What to load. */
export interface DatabaseTimeZoneQuery {
  zones: readonly string[];
  /** First and last day (days since 1970-01-01) asked about. */
  firstDay: number;
  lastDay: number;
  /** Local minutes of the day asked about; on a day a zone changes offset inside it, every
   * `step`-th minute is loaded. */
  window: { first: number; last: number };
  /** @default 5 */
  step?: number;
}

/**
 * Loads the offsets of `zones` on `firstDay..lastDay` within `window` in two queries (the second
 * only for zone-days with a transition inside the window).
 *
 * @throws {Error} from the returned rules when asked about a zone, day or minute not loaded.
 */
export async function loadDatabaseTimeZoneRules(
  sql: postgres.Sql | postgres.TransactionSql,
  query: DatabaseTimeZoneQuery,
): Promise<TimeZoneRules> {
  const { zones, firstDay, lastDay, window, step = 5 } = query;
  // A local timestamp L read in zone z is the instant `L at time zone z`; its offset is L - that.
  const rows = await sql<{ zone: string; day: number; first: number; last: number }[]>`
    select z.zone, d.day,
           ((extract(epoch from l.first) - extract(epoch from l.first at time zone z.zone)) / 60)::int
             as first,
           ((extract(epoch from l.last) - extract(epoch from l.last at time zone z.zone)) / 60)::int
             as last
    from unnest(${zones as string[]}::text[]) as z(zone)
    cross join generate_series(${firstDay}::int, ${lastDay}::int) as d(day)
    cross join lateral (
      select to_timestamp(d.day * 86400 + ${window.first} * 60) at time zone 'UTC' as first,
             to_timestamp(d.day * 86400 + ${window.last} * 60) at time zone 'UTC' as last
    ) l`;
  const dayOffsets = new Map<string, number | null>();
  const changing: { zone: string; day: number }[] = [];
  for (const r of rows) {
    dayOffsets.set(`${r.zone}|${r.day}`, r.first === r.last ? r.first : null);
    if (r.first !== r.last) changing.push({ zone: r.zone, day: r.day });
  }
  const minuteOffsets = new Map<string, number>();
  if (changing.length > 0) {
    const minutes = await sql<{ zone: string; day: number; minute: number; offset: number }[]>`
      select c.zone, c.day, m.minute,
             ((extract(epoch from l.ts) - extract(epoch from l.ts at time zone c.zone)) / 60)::int
               as offset
      from unnest(${changing.map((c) => c.zone)}::text[], ${
      changing.map((c) => c.day)
    }::int[]) as c(zone, day)
      cross join generate_series(${window.first}::int, ${window.last}::int, ${step}::int) as m(minute)
      cross join lateral (
        select to_timestamp(c.day * 86400 + m.minute * 60) at time zone 'UTC' as ts
      ) l`;
    for (const r of minutes) minuteOffsets.set(`${r.zone}|${r.day}|${r.minute}`, r.offset);
  }
  return {
    offsetMinutes(zone, day, minuteOfDay) {
      const offset = dayOffsets.get(`${zone}|${day}`);
      if (offset !== undefined && offset !== null) return offset;
      const slot = window.first + Math.floor((minuteOfDay - window.first) / step) * step;
      const exact = offset === null ? minuteOffsets.get(`${zone}|${day}|${slot}`) : undefined;
      if (exact === undefined) {
        throw new Error(`no time zone offset loaded for ${zone} on day ${day} at ${minuteOfDay}`);
      }
      return exact;
    },
  };
}
