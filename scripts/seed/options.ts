/**
 * Options of a seed run, validated before any work.
 *
 * @module
 */
import { z } from "zod";
import { referenceData } from "./reference_data.ts";
import { maxRoundTripsPerDay } from "./timetable.ts";

/** Default first departure date: a Monday outside every DST transition, fixed for reproducibility. */
export const defaultStartDate = "2027-01-04";

/** What {@link seedDatabase} generates and how. */
export const seedOptionsSchema = z.strictObject({
  /** Flights in total. @default 5000 */
  flights: z.number().int().min(1).max(20_000_000).default(5000),
  /** PRNG seed: the same options give byte-identical rows. @default 42 */
  seed: z.number().int().min(0).max(0xffff_ffff).default(42),
  /** Local departure date of the first day, YYYY-MM-DD. @default "2027-01-04" */
  startDate: z.iso.date().default(defaultStartDate),
  /** Days of schedule from `startDate`. @default 14 */
  days: z.number().int().min(1).max(366).default(14),
  /** Truncate non-empty tables first instead of refusing. @default false */
  replace: z.boolean().default(false),
}).superRefine((options, ctx) => {
  const max = options.days * 2 * maxRoundTripsPerDay(referenceData());
  if (options.flights > max) {
    ctx.addIssue({
      code: "custom",
      path: ["flights"],
      message: `at most ${max} flights fit in ${options.days} day${
        options.days === 1 ? "" : "s"
      } (flight numbers run to 9999 per airline and day); use more days`,
    });
  }
});

/** Validated seed options. */
export type SeedOptions = z.output<typeof seedOptionsSchema>;

/** Thrown for an invalid option; `field` names it. */
export class SeedOptionsError extends Error {
  override name = "SeedOptionsError";
  constructor(readonly field: string, readonly detail: string) {
    super(`${field}: ${detail}`);
  }
}

/**
 * Fills defaults and validates.
 *
 * @throws {SeedOptionsError} naming the first invalid option.
 */
export function parseSeedOptions(input: Partial<SeedOptions> = {}): SeedOptions {
  const result = seedOptionsSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join(".") || "options";
  throw new SeedOptionsError(field, issue?.message ?? "invalid");
}
