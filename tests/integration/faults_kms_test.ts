/**
 * A KMS endpoint that accepts connections and never answers (a plain TCP server that reads and
 * stays silent): the payment-methods handler, with the real SDK client and a migrated Postgres,
 * answers 503 `kms_unavailable` with Retry-After within its budget, writes nothing, and once its
 * KMS breaker is open answers at once.
 */
import { SignJWT } from "jose";
import { startKmsServer } from "../../scripts/local/kms_server.ts";
import { createAuthVerifier } from "../../supabase/functions/_shared/auth.ts";
import { CircuitBreaker } from "../../supabase/functions/_shared/circuit_breaker.ts";
import { DataKeyCache } from "../../supabase/functions/_shared/kms/data_key_cache.ts";
import { EnvelopeCipher } from "../../supabase/functions/_shared/kms/envelope.ts";
import { createKmsClient } from "../../supabase/functions/_shared/kms/kms_client.ts";
import { kmsConfig } from "../../supabase/functions/_shared/kms/kms_config.ts";
import { KmsKeyring } from "../../supabase/functions/_shared/kms/kms_keyring.ts";
import { handler } from "../../supabase/functions/payment-methods/handler.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const secret = "faults-kms-test-secret-at-least-32-characters";
const now = new Date("2026-11-22T12:00:00Z");
const card = { number: "4111 1111 1111 1111", exp_month: 12, exp_year: 2029, holder_name: "A B" };
/** The payment-methods budget (default) and the margin the test allows on top of it. */
const budgetMs = 5000;
const marginMs = 1000;

/** A TCP server that accepts every connection, reads what comes, and never writes a byte. */
function startSilentServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  let accepted = 0;
  (async () => {
    for await (const conn of listener) {
      accepted++;
      conns.push(conn);
      (async () => {
        const buf = new Uint8Array(4096);
        try {
          while ((await conn.read(buf)) !== null) { /* swallow */ }
        } catch {
          // closed by the client or by stop()
        }
      })();
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accepted: () => accepted,
    stop() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // already closed
        }
      }
    },
  };
}

Deno.test(
  "faults: a KMS endpoint that accepts and never answers → 503 kms_unavailable within the budget, nothing written",
  opts,
  async () => {
    const db = await testDatabase({ seeded: false });
    const kms = await startKmsServer({});
    const silent = startSilentServer();
    const config = kmsConfig({ ...kms.env, KMS_ENDPOINT: `https://127.0.0.1:${silent.port}` });
    const client = createKmsClient(config);
    const kmsBreaker = new CircuitBreaker({
      dependency: "kms",
      failureThreshold: 5,
      openMs: 60_000,
    });
    const deps = {
      sql: db.sql,
      verify: createAuthVerifier({ jwtSecret: secret, now: () => now }),
      cipher: new EnvelopeCipher({
        keys: new KmsKeyring(client.client, config.keyId, { callTimeoutMs: config.callTimeoutMs }),
        cache: new DataKeyCache({ now: () => now.getTime() }),
        policy: { partition: "payment-methods", maxAgeMs: 60_000, maxMessages: 100, maxBytes: 1e6 },
      }),
      now: () => now,
      budgetMs,
      kmsBreaker,
      log: () => {},
    };
    const post = async () => {
      const jwt = await new SignJWT({ role: "authenticated", sub: crypto.randomUUID() })
        .setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h")
        .setIssuedAt(Math.floor(now.getTime() / 1000))
        .sign(new TextEncoder().encode(secret));
      const started = performance.now();
      const res = await handler(
        new Request("http://127.0.0.1/payment-methods", {
          method: "POST",
          headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
          body: JSON.stringify(card),
        }),
        deps,
      );
      return {
        status: res.status,
        retryAfter: res.headers.get("retry-after"),
        code: (await res.json()).error?.code,
        ms: performance.now() - started,
      };
    };
    try {
      // Five at once: one shared GenerateDataKey hangs; each request fails at the call deadline.
      const answers = await Promise.all(Array.from({ length: 5 }, post));
      for (const a of answers) {
        assertEquals([a.status, a.code], [503, "kms_unavailable"]);
        assert(a.retryAfter !== null && Number(a.retryAfter) >= 1, "Retry-After");
        assert(a.ms < budgetMs + marginMs, `answered in ${a.ms.toFixed(0)} ms`);
      }
      console.log(`hung KMS: ${answers.map((a) => a.ms.toFixed(0)).join(", ")} ms`);
      assert(silent.accepted() >= 1, "the SDK did connect to the silent endpoint");
      assertEquals(kmsBreaker.state, "open");

      const fast = await post();
      assertEquals([fast.status, fast.code], [503, "kms_unavailable"]);
      assert(fast.ms < 50, `open breaker answered in ${fast.ms.toFixed(1)} ms`);

      const [row] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from public.payment_methods`;
      assertEquals(row!.n, 0, "nothing written");
    } finally {
      client.destroy();
      silent.stop();
      await kms.stop();
      await db.drop();
    }
  },
);
