/**
 * The real airports and airlines the seed is built on, read from the committed `airports.json`
 * and `airlines.json` and validated with the same formats the schema's CHECK constraints demand,
 * so bad data fails here with a path to the offending entry instead of halfway through a COPY.
 *
 * @module
 */
import { z } from "zod";
import airportsFile from "./airports.json" with { type: "json" };
import airlinesFile from "./airlines.json" with { type: "json" };

const tier = z.number().int().min(1).max(5);

/** An airport as the seed uses it; `tier` (1-5, 5 largest) weights routes. */
export const airportSchema = z.object({
  iata: z.string().regex(/^[A-Z]{3}$/, "expected a 3-letter IATA airport code"),
  name: z.string().min(1).max(200),
  city: z.string().min(1).max(120),
  country: z.string().regex(/^[A-Z]{2}$/, "expected an ISO 3166-1 alpha-2 code"),
  timeZone: z.string().min(3).max(64).refine(isTimeZone, "expected an IANA time zone"),
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  tier,
});
/** An airport. */
export type Airport = z.output<typeof airportSchema>;

/** An airline; it flies from its `hubs`, no farther than `rangeKm` when set. */
export const airlineSchema = z.object({
  iata: z.string().regex(/^[A-Z0-9]{2}$/, "expected a 2-character IATA airline designator"),
  name: z.string().min(1).max(200),
  country: z.string().regex(/^[A-Z]{2}$/, "expected an ISO 3166-1 alpha-2 code"),
  alliance: z.enum(["star_alliance", "oneworld", "skyteam"]).nullable(),
  tier,
  hubs: z.array(z.string().regex(/^[A-Z]{3}$/)).min(1),
  lowCost: z.boolean(),
  rangeKm: z.number().int().positive().optional(),
});
/** An airline. */
export type Airline = z.output<typeof airlineSchema>;

/** Both lists, cross-checked. */
export interface ReferenceData {
  airports: readonly Airport[];
  airlines: readonly Airline[];
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const referenceDataSchema = z.object({
  airports: z.array(airportSchema).min(2),
  airlines: z.array(airlineSchema).min(1),
}).superRefine(({ airports, airlines }, ctx) => {
  const codes = new Set<string>();
  airports.forEach((a, i) => {
    if (codes.has(a.iata)) {
      ctx.addIssue({ code: "custom", path: ["airports", i, "iata"], message: "duplicate code" });
    }
    codes.add(a.iata);
  });
  const designators = new Set<string>();
  airlines.forEach((airline, i) => {
    if (designators.has(airline.iata)) {
      ctx.addIssue({ code: "custom", path: ["airlines", i, "iata"], message: "duplicate code" });
    }
    designators.add(airline.iata);
    airline.hubs.forEach((hub, j) => {
      if (!codes.has(hub)) {
        ctx.addIssue({
          code: "custom",
          path: ["airlines", i, "hubs", j],
          message: `hub ${hub} is not in airports.json`,
        });
      }
    });
  });
});

/**
 * Validates reference data (the committed files by default).
 *
 * @throws {Error} naming the first invalid entries' paths.
 */
export function parseReferenceData(
  input: unknown = { airports: airportsFile.airports, airlines: airlinesFile.airlines },
): ReferenceData {
  const result = referenceDataSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 5).map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid seed reference data: ${issues.join("; ")}`);
  }
  return result.data;
}

let cached: ReferenceData | undefined;

/** The committed reference data, validated once per process. */
export function referenceData(): ReferenceData {
  cached ??= parseReferenceData();
  return cached;
}
