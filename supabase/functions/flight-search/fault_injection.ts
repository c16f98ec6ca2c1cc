/**
 * Fault injection for rollback drills (`FLIGHT_SEARCH_FAULT_RATE`): a share of the optimized
 * path's requests fail on purpose before answering, so an automatic rollback can be rehearsed
 * against real traffic. `deps.ts` wraps the pipeline with it when the rate is above 0.
 *
 * A faulted request fails on the optimized path itself, so the fallback onto legacy and its
 * accounting are the ones a real failure gets. It bypasses the result cache, whose hit would hide
 * the fault, and it logs nothing: the drill was announced once when the isolate started, and a
 * line per request would drown the function's log.
 *
 * @module
 */
import {
  createSearchPipeline,
  type SearchPipeline,
  type SearchPipelineOptions,
} from "./pipeline.ts";

/** The error an injected fault throws. */
export class InjectedFaultError extends Error {
  override name = "InjectedFaultError";
  constructor() {
    super("fault injected into the optimized path (FLIGHT_SEARCH_FAULT_RATE)");
  }
}

/** Options of {@link withFaultInjection}. */
export interface FaultInjectionOptions {
  /** Share (0 < rate ≤ 1) of the optimized path's requests that fail. */
  rate: number;
  /** Random source, 0 ≤ x < 1. @default Math.random */
  random?: () => number;
}

/**
 * The pipeline of `options` with faults injected into `rate` of its requests on the optimized
 * path; see the module comment. Cache warming is never faulted.
 *
 * @throws {RangeError} when `rate` is not in (0, 1].
 */
export function withFaultInjection(
  options: SearchPipelineOptions,
  faults: FaultInjectionOptions,
): SearchPipeline {
  const { rate, random = Math.random } = faults;
  if (!(rate > 0 && rate <= 1)) {
    throw new RangeError(`fault injection rate: expected 0 < rate ≤ 1, received ${rate}`);
  }
  const pipeline = createSearchPipeline(options);
  const faulted = createSearchPipeline({
    ...options,
    cache: undefined,
    optimized: () => Promise.reject(new InjectedFaultError()),
    log: () => {},
  });
  return {
    ...pipeline,
    search: (search, path, onFallback) =>
      path === "optimized" && random() < rate
        ? faulted.search(search, path, onFallback)
        : pipeline.search(search, path, onFallback),
  };
}
