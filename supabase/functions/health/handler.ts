/**
 * `health`: proves the chain gateway → function → database and reports each dependency's status
 * and latency.
 *
 * @module
 */
import type { BreakerSnapshot } from "../_shared/circuit_breaker.ts";
import { Budget, DeadlineExceeded } from "../_shared/deadline.ts";
import { errorResponse, HttpError, json } from "../_shared/http_error.ts";

/** Status of one dependency. */
export interface CheckResult {
  status: "up" | "down" | "not_configured";
  latency_ms?: number;
  error?: string;
}

/**
 * A dependency check: resolves when the dependency answers, rejects otherwise; `signal` aborts
 * when the request's budget ends, to cancel the probe.
 */
export type Check = (signal?: AbortSignal) => Promise<void>;

/** What the handler needs; `index.ts` wires the real ones. */
export interface HealthDeps {
  /** Named checks; `undefined` marks a dependency this deployment does not configure. */
  checks: Record<string, Check | undefined>;
  /** Milliseconds since some origin. @default performance.now */
  now?: () => number;
  /** The request's budget, which every check spends from (HEALTH_BUDGET_MS). @default 2000 */
  timeoutMs?: number;
  /** The isolate's circuit breakers, reported as they are. */
  breakers?: () => BreakerSnapshot[];
}

async function runCheck(check: Check, now: () => number, budget: Budget): Promise<CheckResult> {
  const started = now();
  const latency = () => Math.round((now() - started) * 100) / 100;
  try {
    await budget.run((signal) => check(signal));
    return { status: "up", latency_ms: latency() };
  } catch (error) {
    // The reason names the failure class only: driver messages can carry hosts or credentials.
    const reason = error instanceof DeadlineExceeded
      ? `no answer within ${Math.round(error.ms)} ms`
      : error instanceof Error
      ? error.name
      : "error";
    return { status: "down", latency_ms: latency(), error: reason };
  }
}

/** GET → 200 when every configured dependency is up, 503 otherwise; body lists each check. */
export async function handler(req: Request, deps: HealthDeps): Promise<Response> {
  try {
    if (req.method !== "GET" && req.method !== "HEAD") {
      throw new HttpError(405, "method_not_allowed", "use GET", {
        headers: { allow: "GET, HEAD" },
      });
    }
    const { now = () => performance.now(), timeoutMs = 2000 } = deps;
    const names = Object.keys(deps.checks);
    const budget = new Budget(timeoutMs, { what: "health check" });
    let results: CheckResult[];
    try {
      results = await Promise.all(names.map((name) => {
        const check = deps.checks[name];
        return check
          ? runCheck(check, now, budget)
          : Promise.resolve<CheckResult>({ status: "not_configured" });
      }));
    } finally {
      budget.dispose();
    }
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    const healthy = results.every((r) => r.status !== "down");
    const breakers = Object.fromEntries(
      (deps.breakers?.() ?? []).map((b) => [b.dependency, {
        state: b.state,
        consecutive_failures: b.consecutiveFailures,
        opens: b.opens,
      }]),
    );
    return json(
      { status: healthy ? "ok" : "degraded", checks, breakers },
      { status: healthy ? 200 : 503, headers: healthy ? {} : { "retry-after": "1" } },
    );
  } catch (error) {
    return errorResponse(error);
  }
}
