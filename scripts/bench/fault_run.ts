/**
 * One fault of `deno task bench:faults` under load: clients keep sending requests from a second
 * before the fault until the first cache-missing request succeeds after it; what they saw becomes
 * the fault's figures (share within budget, statuses, latency, when the breaker opened, how fast
 * an open breaker answers, how long recovery took).
 *
 * @module
 */
import { type Answer, ask, quantile, statusHistogram, waitFor } from "./fault_probe.ts";
import type { FaultResult } from "./faults_report.ts";

/** What an answer may take beyond the function's budget and still count as within it. */
export const marginMs = 1000;
/** Longest a client waits for any answer; beyond it the request counts as unanswered (0). */
export const giveUpMs = 20_000;

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<unknown> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** One request the clients send. */
export interface LoadRequest {
  url: string;
  init: RequestInit;
  /** True when its answer cannot come from the cache: it shows recovery. */
  miss: boolean;
}

/** A fault: how to start and end it, the function it hurts and that function's budget. */
export interface Fault {
  name: string;
  label: string;
  fn: "flight-search" | "payment-methods";
  budgetMs: number;
  inject(): Promise<void>;
  /** Ends the fault; resolves when what the benchmark itself must do is done. */
  heal(): Promise<void>;
  breakerOpen?: () => Promise<boolean>;
}

interface Timed extends Answer {
  /** Start, ms after the fault began (negative before). */
  at: number;
  miss: boolean;
}

/** Clients that keep sending `next()` requests until stopped. */
function loadClients(concurrency: number, next: () => LoadRequest, origin: () => number) {
  const answers: Timed[] = [];
  let running = true;
  const workers = Array.from({ length: concurrency }, async () => {
    while (running) {
      const { url, init, miss } = next();
      const at = performance.now() - origin();
      const answer = await ask(url, init.headers ?? {}, giveUpMs, init);
      answers.push({ ...answer, at, miss });
      if (answer.status === 0 || answer.status >= 500) await sleep(20); // as a polite client
    }
  });
  return {
    answers,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

function codeHistogram(answers: readonly Answer[]): Record<string, number> {
  const histogram: Record<string, number> = {};
  for (const a of answers) if (a.code) histogram[a.code] = (histogram[a.code] ?? 0) + 1;
  return histogram;
}

/** Polls `breakerOpen` until stopped; `openedAfterMs` is when it first said open. */
function watchBreaker(fault: Fault, faultAt: number) {
  const watch = { openedAfterMs: null as number | null, polling: true, done: Promise.resolve() };
  watch.done = (async () => {
    while (watch.polling && fault.breakerOpen) {
      if (watch.openedAfterMs === null && await fault.breakerOpen().catch(() => false)) {
        watch.openedAfterMs = performance.now() - faultAt;
      }
      await sleep(100);
    }
  })();
  return watch;
}

/** The fault's figures from the answers given from its start on; `healAt`: when it ended. */
function figures(
  fault: Fault,
  answers: readonly Timed[],
  healAt: number,
): Omit<FaultResult, "breakerOpenAfterMs" | "recoveredAfterMs"> & { firstOk?: number } {
  const during = answers.filter((a) => a.at >= 0);
  const firstOk =
    during.filter((a) => a.miss && a.status >= 200 && a.status < 300 && a.at >= healAt)
      .map((a) => a.at + a.ms).sort((x, y) => x - y)[0];
  const latencies = during.map((a) => a.ms);
  const within = during.filter((a) => a.status !== 0 && a.ms <= fault.budgetMs + marginMs);
  // The function's own time (server-timing) of the 503s an open breaker gave: fast ones, while
  // the fault lasted. Functions without server-timing report none.
  const fastRefusals = during.filter((a) =>
    a.status === 503 && a.serverMs !== undefined && a.serverMs < 100 && a.at < healAt
  ).map((a) => a.serverMs!);
  const nullable = (v: number) => Number.isFinite(v) ? Math.round(v * 10) / 10 : null;
  return {
    name: fault.name,
    label: fault.label,
    function: fault.fn,
    budgetMs: fault.budgetMs,
    faultMs: Math.round(healAt),
    requests: during.length,
    withinBudgetPct: during.length === 0 ? 0 : (100 * within.length) / during.length,
    marginMs,
    statusHistogram: statusHistogram(during),
    errorCodes: codeHistogram(during),
    p50Ms: nullable(quantile(latencies, 0.5)),
    p99Ms: nullable(quantile(latencies, 0.99)),
    maxMs: nullable(Math.max(...latencies)),
    openBreakerP50Ms: nullable(quantile(fastRefusals, 0.5)),
    firstOk,
  };
}

/** Runs `fault` for `faultMs` under `concurrency` clients sending `next()` requests. */
export async function runFault(
  fault: Fault,
  settings: { concurrency: number; faultMs: number },
  next: () => LoadRequest,
): Promise<FaultResult> {
  console.error(`fault ${fault.name}: ${fault.label}`);
  let faultAt = performance.now() + 1e9;
  const clients = loadClients(settings.concurrency, next, () => faultAt);
  await sleep(1000);
  faultAt = performance.now();
  await fault.inject();
  const breaker = watchBreaker(fault, faultAt);
  await sleep(settings.faultMs);
  const healAt = performance.now() - faultAt;
  await fault.heal();
  const recovered = await waitFor(
    () =>
      Promise.resolve(
        clients.answers.some((a) => a.miss && a.status >= 200 && a.status < 300 && a.at >= healAt),
      ),
    30_000,
    50,
  );
  breaker.polling = false;
  await breaker.done;
  await clients.stop();

  const { firstOk, openBreakerP50Ms, ...result } = figures(fault, clients.answers, healAt);
  const openedAfterMs = breaker.openedAfterMs;
  return {
    ...result,
    breakerOpenAfterMs: openedAfterMs === null ? null : Math.round(openedAfterMs),
    openBreakerP50Ms,
    recoveredAfterMs: recovered === null || firstOk === undefined
      ? null
      : Math.round(Math.max(0, firstOk - healAt)),
  };
}
