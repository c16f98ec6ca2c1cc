/**
 * The optimized path: concurrent searches of the isolate share batches, so N searches in flight
 * together cost one query per query kind per batch instead of three each.
 *
 * @module
 */
import type { Clock } from "../_shared/clock.ts";
import { type BatchReport, Coalescer } from "../_shared/coalescer.ts";
import type { Sql } from "../_shared/db.ts";
import { searchBatch } from "./batch_search.ts";
import { searchKey, type SearchRequest } from "./request.ts";
import type { SearchResult } from "./result.ts";
import type { QueryCounter } from "./search_rows.ts";

/** Coalescer settings of the optimized path (see `CoalescerOptions`). */
export interface CoalescingSettings {
  windowMs: number;
  maxWaitMs: number;
  /** Shrink the windows to fit batches faster than them (see Coalescer). */
  adaptive: boolean;
  loadMemoryMs: number;
  maxBatchSize: number;
  maxPending: number;
  batchTimeoutMs: number;
}

/** Options for {@link createOptimizedSearch}. */
export interface OptimizedSearchOptions extends Partial<CoalescingSettings> {
  sql: Sql;
  clock?: Clock;
  countQuery?: QueryCounter;
  onBatch?: (report: BatchReport) => void;
}

/** A search function backed by one isolate-wide coalescer. */
export interface OptimizedSearch {
  search(search: SearchRequest): Promise<SearchResult>;
  /** Searches queued or in flight. */
  readonly pending: number;
  /** Batches dispatched and not yet settled (each runs its queries one after another). */
  readonly inFlightBatches: number;
}

/**
 * Creates the optimized path. Identical searches in flight together are answered once (by
 * {@link searchKey}); different ones share the batch's queries.
 */
export function createOptimizedSearch(options: OptimizedSearchOptions): OptimizedSearch {
  const { sql, countQuery, ...coalescing } = options;
  const coalescer = new Coalescer<SearchRequest, SearchResult>({
    ...coalescing,
    keyOf: searchKey,
    batch: (searches, signal) => searchBatch(sql, searches, { signal, countQuery }),
  });
  return {
    search: (search) => coalescer.load(search),
    get pending() {
      return coalescer.pending;
    },
    get inFlightBatches() {
      return coalescer.inFlightBatches;
    },
  };
}
