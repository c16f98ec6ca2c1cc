/**
 * Answers many searches with one statement: the flights of every leg of every search, their
 * fares, and the airports and airlines they refer to (`wave_statement.ts`). The optimized path
 * calls it with each batch the coalescer gathers; the benchmark's dataloader peer calls it with
 * dataloader's batches.
 *
 * @module
 */
import type { Sql } from "../_shared/db.ts";
import { cancellable } from "../_shared/deadline.ts";
import type { SearchRequest } from "./request.ts";
import { assembleResult, legsOf, type SearchResult } from "./result.ts";
import { legId, type LegKey, type QueryCounter, rowSource } from "./search_rows.ts";
import { splitWaveRows, waveStatement } from "./wave_statement.ts";

/** Options for {@link searchBatch}. */
export interface BatchSearchOptions {
  /** Aborting cancels the statement if it is still running. */
  signal?: AbortSignal;
  countQuery?: QueryCounter;
}

/**
 * The answers to `searches`, in order; a search whose rows turn out inconsistent gets an `Error`
 * in its place instead of failing the others.
 */
export async function searchBatch(
  sql: Sql,
  searches: readonly SearchRequest[],
  options: BatchSearchOptions = {},
): Promise<Array<SearchResult | Error>> {
  const { signal, countQuery = () => {} } = options;
  const legs = new Map<string, LegKey>();
  for (const search of searches) for (const leg of legsOf(search)) legs.set(legId(leg), leg);

  // One statement for the whole wave (see wave_statement.ts). Only the cabins searched and the
  // fewest passengers narrow the fares; assembleResult applies each search's own filters.
  countQuery(1);
  const { flights, fares, refs } = splitWaveRows(
    await cancellable(
      waveStatement(sql, {
        legs: [...legs.values()],
        cabins: [...new Set(searches.map((s) => s.cabin))],
        minSeats: Math.min(...searches.map((s) => s.passengers)),
      }),
      signal,
    ),
  );

  const rows = rowSource({ flights, fares, refs });
  return searches.map((search) => {
    try {
      return assembleResult(search, rows);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  });
}
