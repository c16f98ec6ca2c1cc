/**
 * Several isolates of one function at once. A hosted function runs in as many isolates as its
 * traffic needs, each with its own module state — its own pool, caches and coalescer — so the
 * local stack and the benchmark can run K of them behind the gateway to show what that costs.
 *
 * @module
 */
import type { FunctionSpec } from "./functions_config.ts";
import {
  type FunctionProcess,
  startFunction,
  type StartFunctionOptions,
} from "./function_process.ts";

/** Most isolates of one function the local stack starts (each holds its own DB pool). */
export const maxIsolates = 16;

/**
 * Checks a per-function isolate count map, and when `served` is given, that it names only
 * functions served (the stack checks the counts before it starts anything, the names once it
 * has read supabase/functions/).
 *
 * @throws {RangeError} naming the function whose count is not an integer 1..{@link maxIsolates},
 * or that is not served.
 */
export function checkIsolateCounts(
  counts: Readonly<Record<string, number>>,
  served?: readonly string[],
): void {
  for (const [name, count] of Object.entries(counts)) {
    if (served && !served.includes(name)) {
      throw new RangeError(`isolates: no such function served: ${name}`);
    }
    if (!Number.isInteger(count) || count < 1 || count > maxIsolates) {
      throw new RangeError(
        `isolates of ${name}: expected an integer 1..${maxIsolates}, received ${count}`,
      );
    }
  }
}

/**
 * Starts `count` isolates of `spec` side by side and resolves once all of them listen. When one
 * fails to start, the others are stopped before the error is thrown: nothing is left running.
 *
 * @throws {Error} the first start failure (with the function's output).
 */
export async function startIsolates(
  spec: FunctionSpec,
  count: number,
  options: StartFunctionOptions,
): Promise<FunctionProcess[]> {
  const started = await Promise.allSettled(
    Array.from({ length: count }, () => startFunction(spec, options)),
  );
  const running = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.all(running.map((p) => p.stop()));
    throw failed.reason;
  }
  return running;
}
