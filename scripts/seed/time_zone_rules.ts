/**
 * Local wall-clock time in an IANA zone → UTC instant, fast enough for millions of flights, with
 * the zone rules coming from where they must agree.
 *
 * The database computes each flight's local `departure_date` with its own tz database, and tz
 * databases differ between releases (ICU in the JavaScript runtime and Postgres's bundled tzdata
 * need not agree on a zone's future offsets). So the rules are an interface: the pure generator
 * uses the runtime's `Intl` (see {@link intlTimeZoneRules}); loading into a database uses that
 * database's own rules (see `database_time_zone_rules.ts`), so the trigger always lands on the
 * intended local date.
 *
 * @module
 */

/** Milliseconds per day. */
export const msPerDay = 86_400_000;
const msPerMinute = 60_000;

/** UTC offsets of local times, in minutes east of UTC. */
export interface TimeZoneRules {
  /** Offset of `zone` at local `minuteOfDay` of `day` (days since 1970-01-01). */
  offsetMinutes(zone: string, day: number, minuteOfDay: number): number;
}

/** The UTC instant (epoch ms) of local `minuteOfDay` on `day` in `zone`. */
export function localToUtc(
  rules: TimeZoneRules,
  zone: string,
  day: number,
  minuteOfDay: number,
): number {
  return day * msPerDay + (minuteOfDay - rules.offsetMinutes(zone, day, minuteOfDay)) * msPerMinute;
}

/** Days since 1970-01-01 of a `YYYY-MM-DD` date. @throws {RangeError} for a malformed date. */
export function epochDay(date: string): number {
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(ms)) {
    throw new RangeError(`expected a date as YYYY-MM-DD, received ${date}`);
  }
  return ms / msPerDay;
}

/** `YYYY-MM-DD` of a day number from {@link epochDay}. */
export function isoDate(day: number): string {
  return new Date(day * msPerDay).toISOString().slice(0, 10);
}

/** Offset of `zone` from UTC at `instantMs` according to the runtime's ICU, in minutes. */
function intlOffsetAt(format: Intl.DateTimeFormat, instantMs: number): number {
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(instantMs)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(
    parts.year ?? 0,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
  );
  const flooredInstant = instantMs - (((instantMs % msPerMinute) + msPerMinute) % msPerMinute);
  return Math.round((wall - flooredInstant) / msPerMinute);
}

/**
 * Rules from the runtime's `Intl` (ICU). `Intl.DateTimeFormat` is slow per call, so offsets are
 * cached per zone and day: when the offsets at the window's first and last minute agree, the
 * whole window shares them (zones change in the small hours, outside any departure window).
 *
 * @param window local minutes of the day callers ask about
 */
export function intlTimeZoneRules(
  window: { first: number; last: number } = { first: 0, last: 1439 },
): TimeZoneRules {
  const formats = new Map<string, Intl.DateTimeFormat>();
  const dayOffsets = new Map<string, number | null>();
  const format = (zone: string) => {
    let f = formats.get(zone);
    if (!f) {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone: zone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
      });
      formats.set(zone, f);
    }
    return f;
  };
  // Offset in force at a local wall time: the offset at (wall - offset at wall), iterated once.
  const resolve = (zone: string, wallMs: number) => {
    const f = format(zone);
    return intlOffsetAt(f, wallMs - intlOffsetAt(f, wallMs) * msPerMinute);
  };
  return {
    offsetMinutes(zone, day, minuteOfDay) {
      const key = `${zone}|${day}`;
      let offset = dayOffsets.get(key);
      if (offset === undefined) {
        const first = resolve(zone, day * msPerDay + window.first * msPerMinute);
        const last = resolve(zone, day * msPerDay + window.last * msPerMinute);
        offset = first === last ? first : null;
        dayOffsets.set(key, offset);
      }
      return offset ?? resolve(zone, day * msPerDay + minuteOfDay * msPerMinute);
    },
  };
}
