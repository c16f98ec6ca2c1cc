/**
 * The KMS reuse pipeline end to end: payment-method calls through the local stack (gateway,
 * payment-methods isolate, the project's KMS endpoint over HTTPS, Postgres 17) → the isolate's
 * flushed rows in monitoring.function_metrics → the views, path_summary and the metrics
 * function's /metrics, each showing the reuse ratio of what the KMS endpoint itself counted.
 */
import { SignJWT } from "jose";
import { startKmsServer } from "../../scripts/local/kms_server.ts";
import { startStack } from "../../scripts/local/stack.ts";
import { runPaymentTraffic } from "../../scripts/rollout/payment_traffic.ts";
import { metricNames } from "../../supabase/functions/metrics/exposition.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

interface Totals {
  requests: number;
  kms_requests: number;
  kms_new_connections: number;
  kms_data_key_hits: number;
  kms_data_key_misses: number;
}

Deno.test(
  "payment-method calls flush their KMS counts; the views, path_summary and /metrics show the reuse the KMS endpoint saw",
  opts,
  async () => {
    const db = await testDatabase({ seeded: false });
    const kms = await startKmsServer({ https: true });
    const logs: string[] = [];
    const started = new Date();
    const stack = await startStack({
      databaseUrl: db.url,
      port: 0,
      seedFlights: false,
      functions: ["payment-methods", "metrics"],
      env: kms.env,
      onFunctionLog: (_name, line) => logs.push(line),
    });
    try {
      const url = `${stack.functionsUrl}/payment-methods`;
      const users = [crypto.randomUUID(), crypto.randomUUID()];
      const jwts = await Promise.all(
        users.map((sub) =>
          new SignJWT({ role: "authenticated", sub, aud: "authenticated" })
            .setProtectedHeader({ alg: "HS256", typ: "JWT" })
            .setExpirationTime("1h")
            .sign(new TextEncoder().encode(stack.jwtSecret))
        ),
      );
      const card = {
        number: "4111111111111111",
        exp_month: 12,
        exp_year: new Date().getUTCFullYear() + 3,
        holder_name: "Ada Lovelace",
      };
      const cards = 12;
      let answered = 0;
      for (let i = 0; i < cards; i++) {
        const user = i % users.length;
        const created = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${jwts[user]}` },
          body: JSON.stringify(card),
        });
        assertEquals(created.status, 201, logs.join("\n"));
        const { id } = await created.json();
        const revealed = await fetch(`${url}/${id}/reveal`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${stack.serviceRoleKey}`,
          },
          body: JSON.stringify({ user_id: users[user] }),
        });
        assertEquals(revealed.status, 200);
        await revealed.body?.cancel();
        answered += 2;
      }
      const kmsRequests = kms.requests();
      const kmsConnections = kms.connections();
      assert(kmsRequests >= 2, `KMS saw ${kmsRequests} requests`);

      // The isolate flushes every second locally; wait until every request is in the table.
      let totals: Totals | undefined;
      for (let attempt = 0; attempt < 100; attempt++) {
        const [row] = await db.sql<Totals[]>`
          select coalesce(sum(requests), 0)::int as requests,
            coalesce(sum(kms_requests), 0)::int as kms_requests,
            coalesce(sum(kms_new_connections), 0)::int as kms_new_connections,
            coalesce(sum(kms_data_key_hits), 0)::int as kms_data_key_hits,
            coalesce(sum(kms_data_key_misses), 0)::int as kms_data_key_misses
          from monitoring.function_metrics
          where function_name = 'payment-methods' and path = 'none'`;
        totals = row;
        if (row && row.requests >= answered && row.kms_requests >= kmsRequests) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assertEquals(totals!.requests, answered, "every answered request was flushed");
      // What the isolate counted is what the KMS endpoint saw.
      assertEquals(totals!.kms_requests, kmsRequests);
      assertEquals(totals!.kms_new_connections, kmsConnections);
      // Every seal and open asked the data-key cache; only the misses called KMS.
      assertEquals(totals!.kms_data_key_hits + totals!.kms_data_key_misses, answered);
      assertEquals(totals!.kms_data_key_misses, kmsRequests);
      const ratio = 1 - kmsConnections / kmsRequests;

      const [view] = await db.sql<{ reuse: number }[]>`
        select 1 - sum(kms_new_connections)::float8 / sum(kms_requests) as reuse
        from monitoring.minute_metrics where function_name = 'payment-methods'`;
      assert(Math.abs(view!.reuse - ratio) < 1e-9, `minute_metrics ${view!.reuse} vs ${ratio}`);
      const [summary] = await db.sql<{ kms_reuse_ratio: number }[]>`
        select kms_reuse_ratio from monitoring.path_summary('payment-methods', ${started},
          now() + interval '1 minute')`;
      assert(Math.abs(summary!.kms_reuse_ratio - ratio) < 1e-9, `path_summary`);

      const scrape = await fetch(`${stack.functionsUrl}/metrics`, {
        headers: { authorization: `Bearer ${stack.metricsBearerToken}` },
      });
      assertEquals(scrape.status, 200);
      const text = await scrape.text();
      const sample = (name: string) => {
        const line = text.split("\n").find((l) =>
          l.startsWith(`${name}{`) && l.includes(`function="payment-methods"`)
        );
        assert(line, `${name} for payment-methods in /metrics`);
        return Number(line.slice(line.lastIndexOf(" ") + 1));
      };
      assertEquals(sample(metricNames.kmsRequests), kmsRequests);
      assertEquals(sample(metricNames.kmsNewConnections), kmsConnections);
      assertEquals(sample(metricNames.kmsDataKeyHits), totals!.kms_data_key_hits);
      assertEquals(sample(metricNames.kmsDataKeyMisses), totals!.kms_data_key_misses);
      assert(!logs.join("\n").includes(card.number), "no card number in the isolates' output");
    } finally {
      await stack.stop();
      await kms.stop();
      await db.drop();
    }
  },
);

Deno.test(
  "runPaymentTraffic() saves, reveals and deletes cards through the stack until its window ends; the KMS counts land in the monitoring table",
  opts,
  async () => {
    const db = await testDatabase({ seeded: false });
    const kms = await startKmsServer({ https: true });
    const stack = await startStack({
      databaseUrl: db.url,
      port: 0,
      seedFlights: false,
      functions: ["payment-methods"],
      env: kms.env,
    });
    try {
      const counts = await runPaymentTraffic(
        { apiUrl: stack.url, jwtSecret: stack.jwtSecret, serviceRoleKey: stack.serviceRoleKey },
        { durationMs: 1500, signal: new AbortController().signal },
      );
      assert(counts.created > 0, JSON.stringify(counts));
      assertEquals(counts.failed, 0);
      assertEquals(counts.revealed, counts.created);
      assertEquals(counts.deleted, counts.created);
      const [left] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from public.payment_methods`;
      assertEquals(left!.n, 0, "every card it saved it deleted");
      let kmsRequests = 0;
      for (let attempt = 0; attempt < 50 && kmsRequests < kms.requests(); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const [row] = await db.sql<{ n: number }[]>`
          select coalesce(sum(kms_requests), 0)::int as n from monitoring.function_metrics
          where function_name = 'payment-methods'`;
        kmsRequests = row!.n;
      }
      assertEquals(kmsRequests, kms.requests());
    } finally {
      await stack.stop();
      await kms.stop();
      await db.drop();
    }
  },
);
