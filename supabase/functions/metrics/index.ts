import { isolatePool } from "../_shared/db.ts";
import { metricsConfig } from "./config.ts";
import { handler } from "./handler.ts";
import { readSnapshot } from "./snapshot.ts";

Deno.serve((req) =>
  handler(req, {
    config: () => metricsConfig(),
    readSnapshot: () => readSnapshot(isolatePool("metrics")),
  })
);
