import type { Redis } from "@upstash/redis";
import { isolateBreaker, isolateBreakerSnapshots } from "../_shared/circuit_breaker.ts";
import type { Dependency } from "../_shared/deadline.ts";
import { isolatePool } from "../_shared/db.ts";
import { intVar, readEnv } from "../_shared/env.ts";
import { z } from "zod";
import { isolateKmsClient } from "../_shared/kms/kms_client.ts";
import { healthChecks, upstashClient } from "./checks.ts";
import { type Check, handler } from "./handler.ts";

const { HEALTH_BUDGET_MS: timeoutMs } = readEnv(
  z.object({ HEALTH_BUDGET_MS: intVar(2000, { max: 600_000 }) }),
);
const dependencyOf: Record<string, Dependency> = {
  database: "database",
  kms: "kms",
  l2_cache: "cache",
};

/** Each check through its dependency's breaker: an open one answers "down" at once. */
function guarded(checks: Record<string, Check | undefined>): Record<string, Check | undefined> {
  return Object.fromEntries(
    Object.entries(checks).map(([name, check]) => {
      const dependency = dependencyOf[name];
      if (!check || !dependency) return [name, check];
      return [name, (signal?: AbortSignal) => isolateBreaker(dependency).run(() => check(signal))];
    }),
  );
}
// One client per isolate (per configuration), like the database pool.
const clients = new Map<string, Redis>();

Deno.serve((req) =>
  handler(req, {
    timeoutMs,
    breakers: isolateBreakerSnapshots,
    checks: guarded(healthChecks({
      sql: () => isolatePool("health"),
      kms: (env) => isolateKmsClient(env),
      redis: (config) => {
        const key = `${config.url} ${config.token}`;
        let client = clients.get(key);
        if (!client) {
          client = upstashClient(config, timeoutMs);
          clients.set(key, client);
        }
        return client;
      },
    })),
  })
);
