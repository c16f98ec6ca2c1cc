/**
 * Synthetic payment-method traffic for the local rollout's monitoring windows, beside the search
 * traffic: a few users each save a card, have it revealed (as the booking flow does, with the
 * service_role key) and delete it, over and over. The payment-methods isolate seals and opens
 * the cards through its KMS client and data-key cache and flushes those counts, so the analysis's
 * KMS reuse column is measured rather than empty.
 *
 * The card is a well-known test number (Visa 4111 1111 1111 1111); each user is a fresh UUID with
 * a JWT signed by the local stack's secret, as the gateway verifies.
 *
 * @module
 */
import { SignJWT } from "jose";

/** Options of {@link runPaymentTraffic}. */
export interface PaymentTrafficOptions {
  /** e.g. http://127.0.0.1:54321 (the function at `${apiUrl}/functions/v1/payment-methods`). */
  apiUrl: string;
  /** The stack's JWT secret, to sign each user's token. */
  jwtSecret: string;
  /** Reveals need the service_role key. */
  serviceRoleKey: string;
  /** Users saving cards at once. @default 2 */
  users?: number;
  /** Pause after each save-reveal-delete round, per user (ms). @default 25 */
  pauseMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** What the traffic did, by answer. */
export interface PaymentTrafficCounts {
  created: number;
  revealed: number;
  deleted: number;
  /** Requests answered with another status, or not answered. */
  failed: number;
}

async function userToken(secret: string, sub: string): Promise<string> {
  return await new SignJWT({ role: "authenticated", sub, aud: "authenticated" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(secret));
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });

/**
 * Runs the traffic until `durationMs` has passed or `signal` aborts; resolves with the counts
 * (never rejects: a failed request is counted and the user goes on).
 */
export async function runPaymentTraffic(
  options: PaymentTrafficOptions,
  run: { durationMs: number; signal: AbortSignal },
): Promise<PaymentTrafficCounts> {
  const { apiUrl, jwtSecret, serviceRoleKey, users = 2, pauseMs = 25, fetch: fetchFn = fetch } =
    options;
  const url = `${apiUrl.replace(/\/+$/, "")}/functions/v1/payment-methods`;
  const counts: PaymentTrafficCounts = { created: 0, revealed: 0, deleted: 0, failed: 0 };
  const stop = AbortSignal.any([run.signal, AbortSignal.timeout(run.durationMs)]);
  const card = {
    number: "4111111111111111",
    exp_month: 12,
    exp_year: new Date().getUTCFullYear() + 3,
    holder_name: "Load Test",
  };
  // A round once started is finished (its card revealed and deleted) when the window ends; only
  // the caller's signal cuts it short.
  const call = async (path: string, init: RequestInit, ok: number) => {
    try {
      const res = await fetchFn(`${url}${path}`, { ...init, signal: run.signal });
      const body = res.status === ok && ok === 201 ? await res.json() : await res.body?.cancel();
      if (res.status !== ok) counts.failed++;
      return res.status === ok ? (body as { id?: string } | undefined) ?? {} : undefined;
    } catch {
      if (!run.signal.aborted) counts.failed++;
      return undefined;
    }
  };
  const user = async () => {
    const userId = crypto.randomUUID();
    const bearer = { authorization: `Bearer ${await userToken(jwtSecret, userId)}` };
    const json = { "content-type": "application/json" };
    while (!stop.aborted) {
      const created = await call("", {
        method: "POST",
        headers: { ...json, ...bearer },
        body: JSON.stringify(card),
      }, 201);
      if (created?.id) {
        counts.created++;
        const revealed = await call(`/${created.id}/reveal`, {
          method: "POST",
          headers: { ...json, authorization: `Bearer ${serviceRoleKey}` },
          body: JSON.stringify({ user_id: userId }),
        }, 200);
        if (revealed) counts.revealed++;
        if (await call(`/${created.id}`, { method: "DELETE", headers: bearer }, 204)) {
          counts.deleted++;
        }
      }
      await sleep(pauseMs, stop);
    }
  };
  await Promise.all(Array.from({ length: users }, user));
  return counts;
}
