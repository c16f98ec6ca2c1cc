/**
 * Phase 2's smoke test: each deployed function called once through `@supabase/supabase-js`
 * (`functions.invoke`), as a client would, and its status compared with what config expects.
 *
 * @module
 */
import { createClient } from "@supabase/supabase-js";
import type { SmokeRequest } from "./environments.ts";

/** The result of one smoke call. */
export interface SmokeResult {
  name: string;
  ok: boolean;
  /** HTTP status, when the function answered. */
  status?: number;
  durationMs: number;
  /** What went wrong, or the notable response headers. */
  detail: string;
}

/** Calls one function; injected in tests. */
export type SmokeCaller = (
  target: { apiUrl: string; anonKey: string },
  name: string,
  request: SmokeRequest,
) => Promise<SmokeResult>;

/** What a function is asked when config/environments.json has no smoke request for it. */
export const defaultSmokeRequest: SmokeRequest = { method: "POST", body: {}, expect_status: [200] };

/**
 * Replaces `{{date+N}}` in string values with the UTC date N days after `now` (YYYY-MM-DD), so a
 * smoke search asks for a date that is always in the future.
 */
export function expandTemplates(value: unknown, now: Date): unknown {
  if (typeof value === "string") {
    return value.replace(/\{\{date([+-]\d{1,4})?\}\}/g, (_, offset: string | undefined) => {
      const date = new Date(now.getTime() + Number(offset ?? 0) * 86_400_000);
      return date.toISOString().slice(0, 10);
    });
  }
  if (Array.isArray(value)) return value.map((v) => expandTemplates(v, now));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandTemplates(v, now)]));
  }
  return value;
}

/** The real smoke call: `supabase.functions.invoke(name, { method, body })` with a timeout. */
export const invokeFunction: SmokeCaller = async (target, name, request) => {
  const client = createClient(target.apiUrl, target.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
  const started = performance.now();
  const options: Parameters<typeof client.functions.invoke>[1] = {
    method: request.method,
    timeout: 15_000,
  };
  if (request.method !== "GET" && request.body) {
    options.body = expandTemplates(request.body, new Date()) as Record<string, unknown>;
  }
  const { error, response } = await client.functions.invoke(name, options);
  const durationMs = Math.round(performance.now() - started);
  const status = response?.status ??
    (error?.context instanceof Response ? error.context.status : undefined);
  if (status === undefined) {
    return {
      name,
      ok: false,
      durationMs,
      detail: `no answer: ${error?.message ?? "unknown error"}`,
    };
  }
  // Drain the body so the connection is reusable and nothing leaks.
  if (error?.context instanceof Response && !error.context.bodyUsed) {
    await error.context.body?.cancel();
  }
  const ok = request.expect_status.includes(status);
  const path = response?.headers.get("x-search-path") ??
    response?.headers.get("x-flight-search-path");
  return {
    name,
    ok,
    status,
    durationMs,
    detail: ok
      ? `HTTP ${status} in ${durationMs} ms${path ? ` (path ${path})` : ""}`
      : `HTTP ${status}, expected ${request.expect_status.join(" or ")}${
        error?.message ? `: ${error.message}` : ""
      }`,
  };
};
