/**
 * `metrics`: Prometheus text exposition of the monitoring tables, for a scraper holding the bearer
 * secret `METRICS_BEARER_TOKEN`.
 *
 * The gateway does not verify a JWT for this function (`verify_jwt = false`): Prometheus scrapes
 * with a static bearer secret, not a Supabase key.
 *
 * @module
 */
import { bearerToken } from "../_shared/bearer.ts";
import { errorResponse, HttpError } from "../_shared/http_error.ts";
import { secretsEqual } from "./bearer.ts";
import type { MetricsConfig } from "./config.ts";
import { expositionContentType, renderExposition } from "./exposition.ts";
import type { MetricsSnapshot } from "./snapshot.ts";

/** What the handler needs; `index.ts` wires the real ones. */
export interface MetricsDeps {
  /** The configuration; throws ConfigError when the secret is missing (→ 500, logged). */
  config: () => MetricsConfig;
  /** Reads the current totals from the database. */
  readSnapshot: () => Promise<MetricsSnapshot>;
}

const unauthorized = (message: string) =>
  new HttpError(401, "unauthorized", message, {
    headers: { "www-authenticate": 'Bearer realm="metrics"' },
  });

/** GET/HEAD with the bearer secret → 200 exposition; no or a wrong secret → 401. */
export async function handler(req: Request, deps: MetricsDeps): Promise<Response> {
  try {
    if (req.method !== "GET" && req.method !== "HEAD") {
      throw new HttpError(405, "method_not_allowed", "use GET", {
        headers: { allow: "GET, HEAD" },
      });
    }
    const { bearerToken: secret } = deps.config();
    const presented = bearerToken(req.headers.get("authorization"));
    if (presented === undefined) throw unauthorized("a bearer token is required");
    if (!(await secretsEqual(presented, secret))) throw unauthorized("invalid bearer token");
    const body = renderExposition(await deps.readSnapshot());
    return new Response(req.method === "HEAD" ? null : body, {
      headers: { "content-type": expositionContentType, "cache-control": "no-store" },
    });
  } catch (error) {
    return errorResponse(error);
  }
}
