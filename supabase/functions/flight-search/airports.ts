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
 * @module
 */
import { z } from "zod";
import { type Clock, systemClock } from "../_shared/clock.ts";
import type { Sql } from "../_shared/db.ts";
import { withDeadline } from "../_shared/deadline.ts";
import { type EnvSource, processEnv, readEnv } from "../_shared/env.ts";
import { HttpError } from "../_shared/http_error.ts";

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

function duration(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`airport set option ${name}: expected a number ≥ 0, received ${value}`);
  }
  return value;
}

/** The per-isolate set of known airport codes; see the module comment for its rules. */
export class AirportSet {
  readonly #load: AirportLoader;
  readonly #refreshMs: number;
  readonly #retryMs: number;
  readonly #initialWaitMs: number;
  readonly #readTimeoutMs: number;
  readonly #clock: Clock;
  readonly #onError: (error: unknown) => void;

  #codes: ReadonlySet<string> | undefined;
  #loadedAt: number | undefined;
  #nextAttemptAt = -Infinity;
  #refreshing: Promise<void> | undefined;
  #reads = 0;
  #failures = 0;

  /** @throws {RangeError} for a negative or non-finite duration. */
  constructor(options: AirportSetOptions) {
    const {
      load,
      refreshMs = 600_000,
      retryMs = Math.min(30_000, refreshMs),
      initialWaitMs = 250,
      readTimeoutMs = 2000,
      clock = systemClock,
      onError = (error) =>
        console.warn(
          "flight-search: airport set read failed, keeping the last known set:",
          error instanceof Error ? `${error.name}: ${error.message}` : error,
        ),
    } = options;
    this.#load = load;
    this.#refreshMs = duration("refreshMs", refreshMs);
    this.#retryMs = duration("retryMs", retryMs);
    this.#initialWaitMs = duration("initialWaitMs", initialWaitMs);
    this.#readTimeoutMs = duration("readTimeoutMs", readTimeoutMs);
    this.#clock = clock;
    this.#onError = onError;
  }

  /**
   * Whether `code` (upper-case IATA) names a known airport; `true` for every code while no set has
   * ever been read. Waits only for the very first read, and that at most `initialWaitMs`.
   */
  async isKnown(code: string): Promise<boolean> {
    const now = this.#clock.now();
    if (this.#loadedAt === undefined) {
      const refresh = this.#startRefresh(now);
      if (refresh) await this.#bounded(refresh);
    } else if (now - this.#loadedAt >= this.#refreshMs) {
      this.#startRefresh(now);
    }
    return this.#codes === undefined || this.#codes.has(code);
  }

  /** Reads the set now (joining a read in flight); resolves whether or not the read worked. */
  refresh(): Promise<void> {
    return this.#startRefresh(this.#clock.now(), true) ?? Promise.resolve();
  }

  /** What the set holds now. */
  stats(): AirportSetStats {
    return {
      loaded: this.#codes !== undefined,
      size: this.#codes?.size ?? 0,
      ageMs: this.#loadedAt === undefined ? undefined : this.#clock.now() - this.#loadedAt,
      reads: this.#reads,
      failures: this.#failures,
    };
  }

  #startRefresh(now: number, force = false): Promise<void> | undefined {
    if (this.#refreshing) return this.#refreshing;
    if (!force && now < this.#nextAttemptAt) return undefined;
    this.#nextAttemptAt = now + this.#retryMs;
    this.#reads++;
    this.#refreshing = (async () => {
      try {
        const codes = await withDeadline(
          this.#load(),
          this.#readTimeoutMs,
          "airport set read",
          this.#clock,
        );
        // An empty table is a broken read (a wrong database, a truncated seed), not "no airport
        // exists": keep what was known.
        if (codes.length === 0) throw new Error("public.airports returned no rows");
        this.#codes = new Set(codes);
        this.#loadedAt = this.#clock.now();
        this.#nextAttemptAt = this.#loadedAt + this.#refreshMs;
      } catch (error) {
        this.#failures++;
        this.#onError(error);
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  async #bounded(refresh: Promise<void>): Promise<void> {
    await withDeadline(refresh, this.#initialWaitMs, "first airport set read", this.#clock)
      .catch(() => {}); // slower than the wait: the check goes on without a set
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
