/**
 * `health`: proves the chain gateway → function → database and reports each dependency's status
 * and latency.
 *
 * @module
 */
import { errorResponse, HttpError, json } from "../_shared/http_error.ts";

/** Status of one dependency. */
export interface CheckResult {
  status: "up" | "down" | "not_configured";
  latency_ms?: number;
  error?: string;
}

/** A dependency check: resolves when the dependency answers, rejects otherwise. */
export type Check = () => Promise<void>;

/** What the handler needs; `index.ts` wires the real ones. */
export interface HealthDeps {
  /** Named checks; `undefined` marks a dependency this deployment does not configure. */
  checks: Record<string, Check | undefined>;
  /** Milliseconds since some origin. @default performance.now */
  now?: () => number;
  /** Upper bound for each check. @default 2000 */
  timeoutMs?: number;
}

async function runCheck(check: Check, now: () => number, timeoutMs: number): Promise<CheckResult> {
  const started = now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: "up", latency_ms: Math.round((now() - started) * 100) / 100 };
  } catch (error) {
    // The reason names the failure class only: driver messages can carry hosts or credentials.
    const reason = error instanceof Error && /no answer within/.test(error.message)
      ? error.message
      : error instanceof Error
      ? error.name
      : "error";
    return { status: "down", latency_ms: Math.round((now() - started) * 100) / 100, error: reason };
  } finally {
    clearTimeout(timer);
  }
}

/** GET → 200 when every configured dependency is up, 503 otherwise; body lists each check. */
export async function handler(req: Request, deps: HealthDeps): Promise<Response> {
  try {
    if (req.method !== "GET" && req.method !== "HEAD") {
      throw new HttpError(405, "method_not_allowed", "use GET", undefined, { allow: "GET, HEAD" });
    }
    const { now = () => performance.now(), timeoutMs = 2000 } = deps;
    const names = Object.keys(deps.checks);
    const results = await Promise.all(names.map((name) => {
      const check = deps.checks[name];
      return check
        ? runCheck(check, now, timeoutMs)
        : Promise.resolve<CheckResult>({ status: "not_configured" });
    }));
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    const healthy = results.every((r) => r.status !== "down");
    return json({ status: healthy ? "ok" : "degraded", checks }, { status: healthy ? 200 : 503 });
  } catch (error) {
    return errorResponse(error);
  }
}
