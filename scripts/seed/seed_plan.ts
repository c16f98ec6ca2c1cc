/**
 * What a seed run writes, computed without a database: the timetable repeated over the days,
 * thinned evenly to exactly the number of flights asked for, with ids in the order rows are
 * written. Everything here is a pure function of the options, which is what makes two runs with
 * the same options byte-identical.
 *
 * @module
 */
import type { SeedOptions } from "./options.ts";
import { createPrng } from "./prng.ts";
import { type ReferenceData, referenceData } from "./reference_data.ts";
import { buildTimetable, departureWindow, type Service } from "./timetable.ts";
import {
  epochDay,
  intlTimeZoneRules,
  isoDate,
  localToUtc,
  type TimeZoneRules,
} from "./time_zone_rules.ts";

/** A seed run's inputs and its daily timetable. */
export interface SeedPlan {
  options: SeedOptions;
  data: ReferenceData;
  /** Services flown each day (before thinning). */
  services: readonly Service[];
  /** Epoch day of `options.startDate`. */
  startDay: number;
  rules: TimeZoneRules;
}

/** One flight as it will be written; `id` is the row's id. */
export interface PlannedFlight {
  id: number;
  service: Service;
  /** Local departure date at the origin, YYYY-MM-DD: what the trigger must compute. */
  departureDate: string;
  departureAt: number;
  arrivalAt: number;
}

/** Where {@link planSeed} takes reference data and zone rules from. */
export interface PlanSources {
  /** @default the committed reference data */
  data?: ReferenceData;
  /** Zone rules; pass the target database's. @default the runtime's Intl rules */
  rules?: TimeZoneRules;
}

/** The days (since 1970-01-01) a plan's departures fall on, first and last. */
export function planDays(options: SeedOptions): { firstDay: number; lastDay: number } {
  const firstDay = epochDay(options.startDate);
  return { firstDay, lastDay: firstDay + options.days - 1 };
}

/**
 * Plans a run: reference data, timetable, calendar.
 *
 * @throws {RangeError} when the airlines cannot number that many flights a day.
 */
export function planSeed(options: SeedOptions, sources: PlanSources = {}): SeedPlan {
  const { data = referenceData(), rules = intlTimeZoneRules(departureWindow) } = sources;
  const startDay = planDays(options).firstDay;
  const services = buildTimetable(data, {
    servicesPerDay: Math.ceil(options.flights / options.days),
    prng: createPrng(options.seed),
    rules,
    referenceDay: startDay,
  });
  return { options, data, services, startDay, rules };
}

/**
 * The plan's flights in write order (day by day, then airline and flight number), ids from 1.
 * Of the `days × services` occurrences it keeps exactly `flights`, spread evenly, so no day is
 * left short.
 */
export function* plannedFlights(plan: SeedPlan): Generator<PlannedFlight> {
  const { services, startDay, rules, options } = plan;
  const total = services.length * options.days;
  const wanted = options.flights;
  let id = 0;
  let occurrence = 0;
  for (let d = 0; d < options.days; d++) {
    const day = startDay + d;
    const date = isoDate(day);
    for (const service of services) {
      const j = occurrence++;
      // Keep occurrence j when the running quota ⌊j·wanted/total⌋ steps up.
      if (Math.floor(((j + 1) * wanted) / total) === Math.floor((j * wanted) / total)) continue;
      const departureAt = localToUtc(rules, service.origin.timeZone, day, service.departureMinute);
      yield {
        id: ++id,
        service,
        departureDate: date,
        departureAt,
        arrivalAt: departureAt + service.blockMinutes * 60_000,
      };
    }
  }
}
