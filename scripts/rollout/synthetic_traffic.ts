/**
 * Synthetic traffic for the monitoring window of targets without real users (the local stack):
 * the built-in load driver runs the environment's `traffic` workload for the whole window, so
 * the functions flush metrics the analysis can judge. Its own summary is not judged: the
 * analysis reads what the functions recorded, as it would for real users.
 *
 * @module
 */
import type { TrafficGenerator } from "./context.ts";
import { runScenario } from "../load/driver.ts";
import type { RunScenario } from "./load_testers.ts";

/** A generator backed by the built-in driver; stopping the window stops the driver. */
export function driverTraffic(run: RunScenario = runScenario): TrafficGenerator {
  return async ({ api, workload, durationMs, signal, dbUrl }) => {
    await run({
      baseUrl: api.apiUrl,
      anonKey: api.anonKey,
      scenario: workload.scenario,
      durationS: Math.max(1, Math.ceil(durationMs / 1000)),
      vus: workload.vus,
      signal,
      ...(dbUrl ? { dbUrl } : {}),
    });
  };
}
