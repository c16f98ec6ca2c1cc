import type { Redis } from "@upstash/redis";
import { isolatePool } from "../_shared/db.ts";
import { isolateKmsClient } from "../_shared/kms/kms_client.ts";
import { healthChecks, upstashClient } from "./checks.ts";
import { handler } from "./handler.ts";

const timeoutMs = 2000;
// One client per isolate (per configuration), like the database pool.
const clients = new Map<string, Redis>();

Deno.serve((req) =>
  handler(req, {
    timeoutMs,
    checks: healthChecks({
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
    }),
  })
);
