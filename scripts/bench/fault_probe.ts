/**
 * Requests as an outside client makes them during a fault: each one timed from the client's
 * side, bounded by a client-side give-up (answer status 0 = no answer in time), its status,
 * `Retry-After`, error code, cache tier and the server's own time (`server-timing`). Shared by
 * the fault integration tests and the fault benchmark.
 *
 * @module
 */

/** One request's outcome. */
export interface Answer {
  /** HTTP status; 0 when nothing came back within the client's give-up time. */
  status: number;
  /** Client-side latency, ms. */
  ms: number;
  /** The server's own time from `server-timing: total;dur=…`, ms, when given. */
  serverMs: number | undefined;
  retryAfter: string | null;
  /** `error.code` of an error body. */
  code: string | undefined;
  /** `x-cache` (miss, l1, l2). */
  cache: string | null;
}

/** Sends one request (a GET unless `init` says otherwise); waits at most `giveUpMs` for it all. */
export async function ask(
  url: string,
  headers: HeadersInit,
  giveUpMs: number,
  init: RequestInit = {},
): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(giveUpMs) });
    const text = await res.text();
    let code: string | undefined;
    if (res.status >= 400) {
      try {
        code = JSON.parse(text)?.error?.code;
      } catch {
        code = undefined;
      }
    }
    const timing = /total;dur=([\d.]+)/.exec(res.headers.get("server-timing") ?? "");
    return {
      status: res.status,
      ms: performance.now() - started,
      serverMs: timing ? Number(timing[1]) : undefined,
      retryAfter: res.headers.get("retry-after"),
      code,
      cache: res.headers.get("x-cache"),
    };
  } catch {
    return {
      status: 0,
      ms: performance.now() - started,
      serverMs: undefined,
      retryAfter: null,
      code: undefined,
      cache: null,
    };
  }
}

/** All of `urls` at once. */
export function burst(urls: string[], headers: HeadersInit, giveUpMs: number): Promise<Answer[]> {
  return Promise.all(urls.map((url) => ask(url, headers, giveUpMs)));
}

/** Count of answers per status, as `{ "200": n, "503": m }` (0 = no answer). */
export function statusHistogram(answers: readonly Answer[]): Record<string, number> {
  const histogram: Record<string, number> = {};
  for (const a of answers) histogram[String(a.status)] = (histogram[String(a.status)] ?? 0) + 1;
  return histogram;
}

/** The `q` quantile (0..1) of `values` by nearest rank; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Polls `check` every `everyMs` until it returns true; resolves with the ms it took, or null. */
export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return null;
}
