/**
 * Synthetic traffic for the monitoring window of targets without real users (the local stack):
 * the built-in load driver runs the environment's `traffic` workload for the whole window, so
 * the functions flush metrics the analysis can judge; with {@link withPaymentTraffic}, payment
 * methods are saved and revealed meanwhile, so the KMS figures are measured too. Their own
 * counts are not judged: the analysis reads what the functions recorded, as for real users.
 *
 * @module
 */
import type { TrafficGenerator } from "./tools.ts";
import { runScenario } from "../load/driver.ts";
import type { RunScenario } from "./load_testers.ts";
import { type PaymentTrafficOptions, runPaymentTraffic } from "./payment_traffic.ts";

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

/**
 * `search` plus payment-method traffic ({@link runPaymentTraffic}) for the same window, so the
 * analysis also sees the payment KMS client's reuse. The window ends when both have stopped.
 */
export function withPaymentTraffic(
  search: TrafficGenerator,
  payments: Omit<PaymentTrafficOptions, "apiUrl">,
  log: (line: string) => void = () => {},
): TrafficGenerator {
  return async (request) => {
    const [searched, paid] = await Promise.allSettled([
      search(request),
      runPaymentTraffic({ ...payments, apiUrl: request.api.apiUrl }, request),
    ]);
    if (paid.status === "fulfilled") {
      const c = paid.value;
      log(
        `payment-methods traffic: ${c.created} saved, ${c.revealed} revealed, ${c.deleted} deleted, ${c.failed} failed`,
      );
    }
    if (searched.status === "rejected") throw searched.reason;
  };
}
