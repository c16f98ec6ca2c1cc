/**
 * The airports a search may name: the codes of `public.airports`, held per isolate and refreshed
 * on a schedule, so that a format-valid but unknown code (`ZZZ`) is a 400 naming the field instead
 * of a 200 with no flights — without a query per request.
 *
 * - The set is read once when the isolate starts and again every `refreshMs` (on the first check
 *   after that age, in the background: a check never waits for a refresh).
 * - A failed or slow read (`readTimeoutMs`) keeps the last known set, and the next attempt waits
 *   `retryMs`: a database outage costs one query per interval, never one per request, and never
 *   turns a search into a 500.
 * - Before the first successful read a check waits at most `initialWaitMs` for it. When no set
 *   has ever been read (the database was down since the isolate started), every format-valid code
 *   is accepted: the search then runs (and answers from cache, or 503 while the database is down)
 *   rather than refusing valid airports. A known set is never dropped for an empty one.
 *
 * The schedule is `_shared/refreshed_value.ts`'s, as for the flag cache.
 *
 * @module
 */
import { z } from "zod";
import type { Clock } from "../_shared/clock.ts";
import type { Sql } from "../_shared/db.ts";
import { type EnvSource, processEnv, readEnv } from "../_shared/env.ts";
import { HttpError } from "../_shared/http_error.ts";
import { nonNegativeOption, RefreshedValue } from "../_shared/refreshed_value.ts";

/** Reads every airport code. */
export type AirportLoader = () => Promise<string[]>;

/**
 * The statement reading the set: once per isolate and refresh, never per request, so statement
 * counts of searches (tests, `bench:search`) leave it out by this text.
 */
export const airportSetStatement = "select iata_code from public.airports";

/** The loader for `public.airports` on `sql`: one query for every code. */
export function airportLoader(sql: Sql): AirportLoader {
  return async () =>
    (await sql.unsafe<{ iata_code: string }[]>(airportSetStatement)).map((row) => row.iata_code);
}

/** Options for {@link AirportSet}. */
export interface AirportSetOptions {
  load: AirportLoader;
  /** Age after which the set is read again. @default 600000 */
  refreshMs?: number;
  /** Pause after a failed read before the next attempt. @default min(30000, refreshMs) */
  retryMs?: number;
  /** Longest a check waits for the very first read. @default 250 */
  initialWaitMs?: number;
  /** A read slower than this counts as failed. @default 2000 */
  readTimeoutMs?: number;
  clock?: Clock;
  /** Told about each failed read (never about each request). @default console.warn */
  onError?: (error: unknown) => void;
}

/** What the set holds, for stats and tests. */
export interface AirportSetStats {
  /** Whether a read has ever succeeded; false means every format-valid code is accepted. */
  loaded: boolean;
  size: number;
  /** Age of the set in ms; undefined before the first successful read. */
  ageMs: number | undefined;
  reads: number;
  failures: number;
}

/** The per-isolate set of known airport codes; see the module comment for its rules. */
export class AirportSet {
  readonly #codes: RefreshedValue<ReadonlySet<string>>;

  /** @throws {RangeError} for a negative or non-finite duration. */
  constructor(options: AirportSetOptions) {
    const {
      load,
      refreshMs = 600_000,
      retryMs = Math.min(30_000, refreshMs),
      initialWaitMs = 250,
      readTimeoutMs = 2000,
      clock,
      onError = (error) =>
        console.warn(
          "flight-search: airport set read failed, keeping the last known set:",
          error instanceof Error ? `${error.name}: ${error.message}` : error,
        ),
    } = options;
    const duration = (name: string, value: number) => nonNegativeOption("airport set", name, value);
    this.#codes = new RefreshedValue({
      what: "airport set",
      load: async () => {
        const codes = await load();
        // An empty table is a broken read (a wrong database, a truncated seed), not "no airport
        // exists": keep what was known.
        if (codes.length === 0) throw new Error("public.airports returned no rows");
        return new Set(codes);
      },
      refreshMs: duration("refreshMs", refreshMs),
      retryMs: duration("retryMs", retryMs),
      initialWaitMs: duration("initialWaitMs", initialWaitMs),
      readTimeoutMs: duration("readTimeoutMs", readTimeoutMs),
      clock,
      onError,
    });
  }

  /**
   * Whether `code` (upper-case IATA) names a known airport; `true` for every code while no set has
   * ever been read. Waits only for the very first read, and that at most `initialWaitMs`.
   */
  async isKnown(code: string): Promise<boolean> {
    const codes = await this.#codes.current();
    return codes === undefined || codes.has(code);
  }

  /** Reads the set now (joining a read in flight); resolves whether or not the read worked. */
  refresh(): Promise<void> {
    return this.#codes.refresh();
  }

  /** What the set holds now. */
  stats(): AirportSetStats {
    const { value, ageMs } = this.#codes.peek();
    const { reads, failures } = this.#codes.stats();
    return { loaded: value !== undefined, size: value?.size ?? 0, ageMs, reads, failures };
  }
}

/**
 * Throws a 400 naming `origin` or `destination` when it is not a known airport (origin first).
 *
 * @throws {HttpError} 400 `invalid_request` with the field.
 */
export async function requireKnownAirports(
  search: { origin: string; destination: string },
  airports: Pick<AirportSet, "isKnown">,
): Promise<void> {
  for (const field of ["origin", "destination"] as const) {
    if (!(await airports.isKnown(search[field]))) {
      // The code passed the format check (three letters), so echoing it is safe.
      throw new HttpError(
        400,
        "invalid_request",
        `${field}: no airport with IATA code ${search[field]}`,
        { field },
      );
    }
  }
}

/**
 * The set's schedule from the environment: `AIRPORTS_REFRESH_MS` (default 600000, at least 1000)
 * and `AIRPORTS_INITIAL_WAIT_MS` (default 250).
 *
 * @throws {ConfigError} naming a malformed variable.
 */
export function airportSetOptionsFromEnv(
  source: EnvSource = processEnv(),
): Pick<AirportSetOptions, "refreshMs" | "initialWaitMs"> {
  const env = readEnv(
    z.object({
      AIRPORTS_REFRESH_MS: z.coerce.number().int().min(1000).max(86_400_000).default(600_000),
      AIRPORTS_INITIAL_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(250),
    }),
    source,
  );
  return { refreshMs: env.AIRPORTS_REFRESH_MS, initialWaitMs: env.AIRPORTS_INITIAL_WAIT_MS };
}
