/**
 * The benchmark's peer: the same batch search behind the `dataloader` npm package, one loader
 * shared by every request of the isolate, with dataloader's default scheduling (dispatch after
 * the current tick, unbounded batch size).
 *
 * Only its memoization is turned off: dataloader's default cache would keep every answer for the
 * loader's lifetime — for a loader shared across requests that is an unbounded, never-expiring
 * result cache, not a batching strategy, and the comparison is about batching.
 *
 * Served, and imported at all (`deps.ts`), only when `FLIGHT_SEARCH_FORCE_PATH=dataloader` (the
 * benchmark sets it).
 *
 * @module
 */
import DataLoader from "dataloader";
import type { Sql } from "../_shared/db.ts";
import { searchBatch } from "./batch_search.ts";
import type { OptimizedSearch } from "./optimized.ts";
import type { SearchRequest } from "./request.ts";
import type { SearchResult } from "./result.ts";
import type { QueryCounter } from "./search_rows.ts";

/** Creates the dataloader-backed peer of the optimized path. */
export function createDataLoaderSearch(
  options: { sql: Sql; countQuery?: QueryCounter; onBatch?: (size: number) => void },
): OptimizedSearch {
  const { sql, countQuery, onBatch = () => {} } = options;
  let pending = 0;
  let inFlightBatches = 0;
  const loader = new DataLoader<SearchRequest, SearchResult>(
    async (searches) => {
      onBatch(searches.length);
      inFlightBatches++;
      try {
        return await searchBatch(sql, searches, { countQuery });
      } finally {
        inFlightBatches--;
      }
    },
    { cache: false },
  );
  return {
    async search(search) {
      pending++;
      try {
        return await loader.load(search);
      } finally {
        pending--;
      }
    },
    get pending() {
      return pending;
    },
    get inFlightBatches() {
      return inFlightBatches;
    },
  };
}
