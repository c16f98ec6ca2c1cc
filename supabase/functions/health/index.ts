import { isolatePool } from "../_shared/db.ts";
import { handler } from "./handler.ts";

Deno.serve((req) =>
  handler(req, {
    checks: {
      database: async () => {
        await isolatePool("health")`select 1`;
      },
    },
  })
);
