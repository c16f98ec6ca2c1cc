/**
 * payment-methods through the real local stack: the JWT-verifying gateway, the function in its
 * own isolate with the KMS environment, the project's KMS endpoint over HTTPS (trusted through
 * KMS_CA_CERT_FILE), and Postgres 17.
 */
import { SignJWT } from "jose";
import { startKmsServer } from "../../scripts/local/kms_server.ts";
import { startStack } from "../../scripts/local/stack.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "payment-methods behind the gateway: 401 without a valid JWT, nothing stored; one KMS connection per isolate",
  opts,
  async () => {
    const db = await testDatabase({ seeded: false });
    const kms = await startKmsServer({ https: true });
    const logs: string[] = [];
    const stack = await startStack({
      databaseUrl: db.url,
      port: 0,
      seedFlights: false,
      functions: ["payment-methods"],
      env: kms.env,
      onFunctionLog: (_name, line) => logs.push(line),
    });
    try {
      const url = `${stack.functionsUrl}/payment-methods`;
      const user = crypto.randomUUID();
      const userJwt = await new SignJWT({ role: "authenticated", sub: user, aud: "authenticated" })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setExpirationTime("1h")
        .sign(new TextEncoder().encode(stack.jwtSecret));
      const forgedJwt = await new SignJWT({ role: "service_role" })
        .setProtectedHeader({ alg: "HS256" })
        .sign(new TextEncoder().encode("not-the-project-secret-not-the-project-secret"));
      const card = { number: "4111111111111111", exp_month: 1, exp_year: 2099, holder_name: "A B" };
      const post = (jwt?: string) =>
        fetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(jwt ? { authorization: `Bearer ${jwt}` } : {}),
          },
          body: JSON.stringify(card),
        });

      for (const jwt of [undefined, forgedJwt]) {
        const res = await post(jwt);
        assertEquals(res.status, 401);
        assertEquals((await res.json()).error.code, "unauthorized");
      }
      const [before] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from public.payment_methods`;
      assertEquals(before!.n, 0);
      assertEquals(kms.requests(), 0);

      const anon = await post(stack.anonKey);
      assertEquals(anon.status, 403, "the anon key is a valid JWT but names no user");
      await anon.body?.cancel();

      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const created = await post(userJwt);
        assertEquals(created.status, 201, logs.join("\n"));
        ids.push((await created.json()).id);
      }
      const listed = await fetch(url, { headers: { authorization: `Bearer ${userJwt}` } });
      assertEquals(
        (await listed.json()).payment_methods.map((m: { id: string }) => m.id).sort(),
        [...ids].sort(),
      );
      const revealed = await fetch(`${url}/${ids[0]}/reveal`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${stack.serviceRoleKey}`,
        },
        body: JSON.stringify({ user_id: user }),
      });
      assertEquals(revealed.status, 200);
      assertEquals((await revealed.json()).number, card.number);

      // One isolate, one module-scope client: every KMS request after the first reused its
      // connection. One data key serves the three new cards: the KMS context holds only what
      // cards share, each card's row is bound through the AAD.
      assertEquals(kms.connections(), 1);
      assertEquals(kms.calls(), { GenerateDataKey: 1, Decrypt: 1 });
      assert(!logs.join("\n").includes(card.number), "no card number in the isolate's output");
    } finally {
      await stack.stop();
      await kms.stop();
      await db.drop();
    }
  },
);
