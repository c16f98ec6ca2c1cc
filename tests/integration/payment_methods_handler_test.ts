/**
 * The payment-methods handler in-process against real parts: a migrated Postgres 17 database
 * (RLS as `authenticated`), the project's KMS endpoint spoken to by the real SDK, HS256 JWTs.
 */
import { SignJWT } from "jose";
import postgres from "postgres";
import { type KmsServer, startKmsServer } from "../../scripts/local/kms_server.ts";
import { createAuthVerifier } from "../../supabase/functions/_shared/auth.ts";
import { CircuitBreaker } from "../../supabase/functions/_shared/circuit_breaker.ts";
import { DataKeyCache } from "../../supabase/functions/_shared/kms/data_key_cache.ts";
import { EnvelopeCipher } from "../../supabase/functions/_shared/kms/envelope.ts";
import {
  createKmsClient,
  type KmsClientHandle,
} from "../../supabase/functions/_shared/kms/kms_client.ts";
import { kmsConfig } from "../../supabase/functions/_shared/kms/kms_config.ts";
import { KmsKeyring } from "../../supabase/functions/_shared/kms/kms_keyring.ts";
import {
  handler,
  type PaymentMethodsDeps,
} from "../../supabase/functions/payment-methods/handler.ts";
import { assert, assertEquals, assertRejects } from "../support/assert.ts";
import { type TestDatabase, testDatabase } from "../support/database.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const secret = "payment-methods-test-secret-at-least-32-chars";
const now = new Date("2026-11-22T12:00:00Z");
const pan = "4111 1111 1111 1111";
const panDigits = pan.replaceAll(" ", "");
const card = { number: pan, exp_month: 12, exp_year: 2029, holder_name: "Grace Hopper" };

interface Fixture {
  db: TestDatabase;
  kms: KmsServer;
  client: KmsClientHandle;
  deps: PaymentMethodsDeps;
}

async function fixture(
  kmsOptions: Parameters<typeof startKmsServer>[0] = {},
  extra: Partial<PaymentMethodsDeps> = {},
): Promise<Fixture> {
  const db = await testDatabase({ seeded: false });
  const kms = await startKmsServer(kmsOptions);
  const client = createKmsClient(kmsConfig(kms.env));
  const deps: PaymentMethodsDeps = {
    sql: db.sql,
    verify: createAuthVerifier({ jwtSecret: secret, now: () => now }),
    cipher: new EnvelopeCipher({
      keys: new KmsKeyring(client.client, kms.keyId),
      cache: new DataKeyCache({ now: () => now.getTime() }),
      policy: {
        partition: "payment-methods",
        maxAgeMs: 60_000,
        maxMessages: 100,
        maxBytes: 1 << 20,
      },
    }),
    now: () => now,
    ...extra,
  };
  return { db, kms, client, deps };
}

async function close(f: Fixture): Promise<void> {
  f.client.destroy();
  await f.kms.stop();
  await f.db.drop();
}

function token(claims: Record<string, unknown>, key = secret): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setExpirationTime(Math.floor(now.getTime() / 1000) + 3600)
    .sign(new TextEncoder().encode(key));
}

const userToken = (sub: string) => token({ role: "authenticated", sub, aud: "authenticated" });
const serviceToken = () => token({ role: "service_role" });

function call(
  method: string,
  path: string,
  jwt: string | undefined,
  body?: unknown,
): Request {
  const headers = new Headers();
  if (jwt !== undefined) headers.set("authorization", `Bearer ${jwt}`);
  if (body !== undefined) headers.set("content-type", "application/json");
  return new Request(`http://127.0.0.1/payment-methods${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function rowCount(db: TestDatabase): Promise<number> {
  const [row] = await db.sql<
    { n: number }[]
  >`select count(*)::int as n from public.payment_methods`;
  return row!.n;
}

Deno.test(
  "payment-methods handler stores a card encrypted, answers id/brand/last4, lists it masked, reveals it to service_role",
  opts,
  async () => {
    const f = await fixture();
    try {
      const alice = crypto.randomUUID();
      const created = await handler(call("POST", "", await userToken(alice), card), f.deps);
      assertEquals(created.status, 201);
      const body = await created.json();
      assertEquals(Object.keys(body).sort(), ["brand", "id", "last4"]);
      assertEquals([body.brand, body.last4], ["visa", "1111"]);

      const [row] = await f.db.sql<
        { user_id: string; envelope: Uint8Array; kms_key_arn: string }[]
      >`
        select user_id, envelope, kms_key_arn from public.payment_methods where id = ${body.id}`;
      assertEquals([row!.user_id, row!.kms_key_arn], [alice, f.kms.keyArn]);
      const stored = new TextDecoder("latin1").decode(row!.envelope);
      assert(!stored.includes(panDigits) && !stored.includes("Grace"), "nothing stored in clear");

      const listed = await handler(call("GET", "", await userToken(alice)), f.deps);
      assertEquals(listed.status, 200);
      const list = await listed.json();
      assertEquals(list.payment_methods.length, 1);
      assertEquals(Object.keys(list.payment_methods[0]).sort(), [
        "brand",
        "created_at",
        "exp_month",
        "exp_year",
        "id",
        "last4",
      ]);
      assert(!JSON.stringify(list).includes(panDigits));

      const revealed = await handler(
        call("POST", `/${body.id}/reveal`, await serviceToken(), { user_id: alice }),
        f.deps,
      );
      assertEquals(revealed.status, 200);
      assertEquals(revealed.headers.get("cache-control"), "no-store");
      const clear = await revealed.json();
      assertEquals([clear.number, clear.holder_name, clear.exp_month, clear.exp_year], [
        panDigits,
        "Grace Hopper",
        12,
        2029,
      ]);

      const removed = await handler(call("DELETE", `/${body.id}`, await userToken(alice)), f.deps);
      assertEquals(removed.status, 204);
      assertEquals(await rowCount(f.db), 0);
    } finally {
      await close(f);
    }
  },
);

Deno.test(
  "payment-methods handler: two users cannot see, delete or decrypt each other's methods",
  opts,
  async () => {
    const logs: string[] = [];
    const f = await fixture({}, { log: (line) => logs.push(line) });
    try {
      const alice = crypto.randomUUID();
      const bob = crypto.randomUUID();
      const a = await (await handler(call("POST", "", await userToken(alice), card), f.deps))
        .json();
      const b = await (await handler(
        call("POST", "", await userToken(bob), { ...card, number: "5555555555554444" }),
        f.deps,
      )).json();

      const bobList = await (await handler(call("GET", "", await userToken(bob)), f.deps)).json();
      assertEquals(bobList.payment_methods.map((m: { id: string }) => m.id), [b.id]);
      const stolen = await handler(call("DELETE", `/${a.id}`, await userToken(bob)), f.deps);
      assertEquals(stolen.status, 404);
      const wrongOwner = await handler(
        call("POST", `/${a.id}/reveal`, await serviceToken(), { user_id: bob }),
        f.deps,
      );
      assertEquals(wrongOwner.status, 404);
      const notService = await handler(
        call("POST", `/${a.id}/reveal`, await userToken(alice), { user_id: alice }),
        f.deps,
      );
      assertEquals(notService.status, 403);

      // RLS and column privileges, straight in SQL as each user.
      const asUser = (sub: string) =>
        f.db.sql.begin(async (tx) => {
          await tx.unsafe("set local role authenticated");
          await tx`select set_config('request.jwt.claims', ${
            JSON.stringify({ role: "authenticated", sub })
          }, true)`;
          return await tx<{ id: string }[]>`select id from public.payment_methods`;
        });
      assertEquals((await asUser(bob)).map((r) => r.id), [b.id]);
      await assertRejects(
        () =>
          f.db.sql.begin(async (tx) => {
            await tx.unsafe("set local role authenticated");
            await tx`select set_config('request.jwt.claims', ${
              JSON.stringify({ role: "authenticated", sub: alice })
            }, true)`;
            return await tx`select envelope from public.payment_methods`;
          }),
        postgres.PostgresError,
        "permission denied",
      );

      // Writes only through the function: Alice, with her own valid claims, can neither insert
      // a row of her own nor update one, whatever the brand, last4 or envelope.
      const asAlice = <T>(statement: (tx: postgres.TransactionSql) => Promise<T>) =>
        f.db.sql.begin(async (tx): Promise<T> => {
          await tx.unsafe("set local role authenticated");
          await tx`select set_config('request.jwt.claims', ${
            JSON.stringify({ role: "authenticated", sub: alice })
          }, true)`;
          return await statement(tx);
        });
      for (
        const [what, statement] of [
          ["insert", (tx: postgres.TransactionSql) =>
            tx`insert into public.payment_methods
                 (user_id, brand, last4, exp_month, exp_year, envelope, envelope_version,
                  kms_key_arn)
               values (${alice}, 'visa', '0000', 1, 2099, ${new Uint8Array(40).fill(2)}, 2,
                       'arn:forged')`],
          [
            "update",
            (tx: postgres.TransactionSql) =>
              tx`update public.payment_methods set last4 = '0000' where id = ${a.id}`,
          ],
        ] as const
      ) {
        const error = await assertRejects(() => asAlice(statement), postgres.PostgresError);
        assert(/permission denied/.test(error.message), `${what}: ${error.message}`);
      }
      const [untouched] = await f.db.sql<{ n: number; last4: string }[]>`
        select (select count(*)::int from public.payment_methods where user_id = ${alice}) as n,
               (select last4 from public.payment_methods where id = ${a.id}) as last4`;
      assertEquals(untouched!.last4, "1111");
      assertEquals(
        (await asAlice((tx) => tx<{ id: string }[]>`select id from public.payment_methods`))
          .length,
        untouched!.n,
        "Alice still reads her own rows",
      );

      // Alice's envelope copied onto a row of Bob's, and onto another row of Alice's.
      const copyTo = async (userId: string) => {
        const [copy] = await f.db.sql<{ id: string }[]>`
          insert into public.payment_methods
            (user_id, brand, last4, exp_month, exp_year, envelope, envelope_version, kms_key_arn)
          select ${userId}, brand, last4, exp_month, exp_year, envelope, envelope_version,
                 kms_key_arn
          from public.payment_methods where id = ${a.id}
          returning id`;
        return copy!.id;
      };
      for (const owner of [bob, alice]) {
        const copyId = await copyTo(owner);
        const res = await handler(
          call("POST", `/${copyId}/reveal`, await serviceToken(), { user_id: owner }),
          f.deps,
        );
        assertEquals(res.status, 422);
        const text = await res.text();
        assertEquals(JSON.parse(text).error.code, "undecryptable");
        assert(!text.includes(panDigits));
      }
      const original = await handler(
        call("POST", `/${a.id}/reveal`, await serviceToken(), { user_id: alice }),
        f.deps,
      );
      assertEquals((await original.json()).number, panDigits);
      // KMS hands out the data key (its context is shared by every card); the AAD, which names
      // the row and the user, is what refuses the copies.
      assertEquals(logs.length, 2);
      assert(logs.every((l) => l.includes("authentication failed")), logs.join("\n"));
      assertEquals(f.kms.calls(), { GenerateDataKey: 1, Decrypt: 1 });
    } finally {
      await close(f);
    }
  },
);

Deno.test(
  "payment-methods handler: missing or forged JWT → 401 and nothing stored",
  opts,
  async () => {
    const f = await fixture();
    try {
      const user = crypto.randomUUID();
      const missing = await handler(call("POST", "", undefined, card), f.deps);
      assertEquals(missing.status, 401);
      assertEquals(missing.headers.get("www-authenticate")?.startsWith("Bearer"), true);
      const forgedJwt = await token({ role: "authenticated", sub: user }, "x".repeat(40));
      const forged = await handler(call("POST", "", forgedJwt, card), f.deps);
      assertEquals(forged.status, 401);
      assertEquals((await forged.json()).error.code, "unauthorized");
      const anon = await handler(call("POST", "", await token({ role: "anon" }), card), f.deps);
      assertEquals(anon.status, 403);
      const noUser = await handler(call("GET", "", await token({ role: "authenticated" })), f.deps);
      assertEquals(noUser.status, 403);
      assertEquals(await rowCount(f.db), 0);
      assertEquals(f.kms.requests(), 0, "no KMS call before the caller is known");

      const badCard = await handler(
        call("POST", "", await userToken(user), { ...card, number: "4111111111111112" }),
        f.deps,
      );
      assertEquals(badCard.status, 400);
      assertEquals((await badCard.json()).error.field, "number");
      const wrongMethod = await handler(call("PUT", "", await userToken(user), card), f.deps);
      assertEquals([wrongMethod.status, wrongMethod.headers.get("allow")], [405, "GET, POST"]);
      const badId = await handler(call("DELETE", "/not-a-uuid", await userToken(user)), f.deps);
      assertEquals(badId.status, 400);
    } finally {
      await close(f);
    }
  },
);

Deno.test(
  "payment-methods handler: an open KMS breaker answers 503 without a log line per request",
  opts,
  async () => {
    const logs: string[] = [];
    const opened: number[] = [];
    const kmsBreaker = new CircuitBreaker({
      dependency: "kms",
      failureThreshold: 1,
      openMs: 60_000,
      onOpen: () => opened.push(1),
    });
    const f = await fixture({}, { log: (line) => logs.push(line), kmsBreaker });
    try {
      const jwt = await userToken(crypto.randomUUID());
      await f.kms.stop();
      const first = await handler(call("POST", "", jwt, card), f.deps);
      assertEquals(first.status, 503);
      assertEquals([opened.length, logs.length], [1, 1], "the failure that opens it is logged");
      for (let i = 0; i < 5; i++) {
        const refused = await handler(call("POST", "", jwt, card), f.deps);
        assertEquals(refused.status, 503);
        assertEquals((await refused.json()).error.code, "kms_unavailable");
      }
      assertEquals(logs.length, 1, logs.join("\n"));
      assertEquals(kmsBreaker.snapshot().rejected, 5);
      assertEquals(await rowCount(f.db), 0);
    } finally {
      await close(f);
    }
  },
);

Deno.test("payment-methods handler: KMS down → 503 JSON and nothing stored", opts, async () => {
  const logs: string[] = [];
  const f = await fixture({ errorRate: 1 }, { log: (line) => logs.push(line) });
  try {
    const user = crypto.randomUUID();
    const failing = await handler(call("POST", "", await userToken(user), card), f.deps);
    assertEquals(failing.status, 503);
    assertEquals(failing.headers.get("retry-after"), "2");
    assertEquals((await failing.json()).error.code, "kms_unavailable");
    assertEquals(f.kms.calls(), { GenerateDataKey: 3 }, "the SDK retried 5xx");

    await f.kms.stop();
    const down = await handler(call("POST", "", await userToken(user), card), f.deps);
    assertEquals(down.status, 503);
    assertEquals(await rowCount(f.db), 0);
    assertEquals(logs.length, 2);
    assert(
      logs[0]!.includes("KMSInternalException") && logs[1]!.includes("ECONNREFUSED"),
      logs.join("\n"),
    );
  } finally {
    await close(f);
  }
});

Deno.test(
  "payment-methods handler: a throttled KMS is retried and the card is stored",
  opts,
  async () => {
    const draws = [0, 0];
    const f = await fixture({ throttleRate: 0.5, random: () => draws.shift() ?? 0.9 });
    try {
      const res = await handler(
        call("POST", "", await userToken(crypto.randomUUID()), card),
        f.deps,
      );
      assertEquals(res.status, 201);
      assertEquals(f.kms.calls(), { GenerateDataKey: 3 });
      assertEquals(f.client.stats.snapshot().calls, { GenerateDataKey: 1 });
      assertEquals(await rowCount(f.db), 1);
    } finally {
      await close(f);
    }
  },
);

Deno.test(
  "payment-methods handler: the card number never reaches a log, an error answer or a metric",
  opts,
  async () => {
    const f = await fixture({ errorRate: 1 });
    const captured: string[] = [];
    const originals = {
      error: console.error,
      warn: console.warn,
      log: console.log,
      info: console.info,
    };
    for (const level of ["error", "warn", "log", "info"] as const) {
      console[level] = (...args: unknown[]) => {
        captured.push(
          args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : String(a))).join(" "),
        );
      };
    }
    const answers: string[] = [];
    try {
      const user = crypto.randomUUID();
      const jwt = await userToken(user);
      // KMS failing.
      answers.push(await (await handler(call("POST", "", jwt, card), f.deps)).text());
      // Invalid card (Luhn) and expired card.
      answers.push(
        await (await handler(
          call("POST", "", jwt, { ...card, number: "4111111111111112" }),
          f.deps,
        )).text(),
      );
      answers.push(
        await (await handler(call("POST", "", jwt, { ...card, exp_year: 2020 }), f.deps)).text(),
      );
      // Database failing after encryption succeeded.
      f.kms.configure({ errorRate: 0 });
      const brokenSql = postgres(f.db.url, { max: 1, onnotice: () => {} });
      await brokenSql.end();
      answers.push(
        await (await handler(call("POST", "", jwt, card), { ...f.deps, sql: brokenSql })).text(),
      );
      // A tampered envelope at reveal time.
      const ok = await (await handler(call("POST", "", jwt, card), f.deps)).json();
      await f.db
        .sql`update public.payment_methods set envelope = set_byte(envelope, octet_length(envelope) - 1, 0) where id = ${ok.id}`;
      answers.push(
        await (await handler(
          call("POST", `/${ok.id}/reveal`, await serviceToken(), { user_id: user }),
          f.deps,
        )).text(),
      );
    } finally {
      Object.assign(console, originals);
      await close(f);
    }
    assert(captured.length >= 3, `failing paths were logged: ${captured.length}`);
    const everything = [...captured, ...answers, JSON.stringify(f.client.stats.snapshot())].join(
      "\n",
    );
    for (const form of [panDigits, pan, "4111-1111-1111-1111", "Grace Hopper"]) {
      assert(!everything.includes(form), `found card data in output: ${form}`);
    }
    assert(captured.some((line) => line.includes("KMS unavailable")), captured.join("\n"));
    assertEquals(answers.map((a) => JSON.parse(a).error.code), [
      "kms_unavailable",
      "invalid_request",
      "invalid_request",
      "database_unavailable",
      "undecryptable",
    ]);
  },
);

Deno.test(
  "payment-methods handler: 20 new cards of 20 users take one GenerateDataKey and reveal with one Decrypt",
  opts,
  async () => {
    const f = await fixture();
    try {
      const cards: { id: string; user: string; number: string }[] = [];
      const numbers = ["4111111111111111", "5555555555554444", "4012888888881881"];
      for (let i = 0; i < 20; i++) {
        const user = crypto.randomUUID();
        const number = numbers[i % numbers.length]!;
        const res = await handler(
          call("POST", "", await userToken(user), { ...card, number }),
          f.deps,
        );
        assertEquals(res.status, 201);
        cards.push({ id: (await res.json()).id, user, number });
      }
      assertEquals(f.kms.calls(), { GenerateDataKey: 1 });
      const versions = await f.db.sql<{ envelope_version: number; n: number }[]>`
        select envelope_version, count(*)::int as n from public.payment_methods
        group by envelope_version`;
      assertEquals(versions.map((r) => [r.envelope_version, r.n]), [[2, 20]]);
      for (const c of cards) {
        const res = await handler(
          call("POST", `/${c.id}/reveal`, await serviceToken(), { user_id: c.user }),
          f.deps,
        );
        assertEquals(res.status, 200);
        assertEquals((await res.json()).number, c.number);
      }
      assertEquals(f.kms.calls(), { GenerateDataKey: 1, Decrypt: 1 });

      // The column names the envelope's own format version.
      await assertRejects(
        () =>
          f.db.sql`update public.payment_methods set envelope_version = 1 where id = ${
            cards[0]!.id
          }`,
        postgres.PostgresError,
        "payment_methods_envelope_version_matches",
      );
    } finally {
      await close(f);
    }
  },
);

Deno.test(
  "payment-methods handler: a card stored by the code before envelope version 2 still reveals, unchanged",
  opts,
  async () => {
    const fixtureData = JSON.parse(
      await Deno.readTextFile(
        new URL(
          "../../supabase/functions/_shared/kms/testdata/envelope_v1.json",
          import.meta.url,
        ),
      ),
    );
    const dir = await Deno.makeTempDir({ prefix: "pf-pm-v1-" });
    const keyFile = `${dir}/key.json`;
    await Deno.writeTextFile(keyFile, JSON.stringify(fixtureData.kmsKey));
    const logs: string[] = [];
    const f = await fixture({ keyFile }, { log: (line) => logs.push(line) });
    try {
      const row = fixtureData.row;
      const envelope = Uint8Array.from(atob(row.envelope), (c) => c.charCodeAt(0));
      // Inserted as the version-1 writer did: envelope_version left to its default.
      await f.db.sql`
        insert into public.payment_methods
          (id, user_id, brand, last4, exp_month, exp_year, envelope, kms_key_arn)
        values (${row.id}, ${row.user_id}, ${row.brand}, ${row.last4}, ${row.exp_month},
                ${row.exp_year}, ${envelope}, ${fixtureData.keyArn})`;
      const reveal = (userId: string) =>
        serviceToken().then((jwt) =>
          handler(call("POST", `/${row.id}/reveal`, jwt, { user_id: userId }), f.deps)
        );
      const res = await reveal(row.user_id);
      assertEquals(res.status, 200);
      const clear = await res.json();
      assertEquals(
        [clear.number, clear.holder_name, clear.exp_month, clear.exp_year],
        [
          fixtureData.card.number,
          fixtureData.card.holder_name,
          fixtureData.card.exp_month,
          fixtureData.card.exp_year,
        ],
      );
      // Under version 1 the row is in the KMS context: KMS itself refuses a copy.
      const [copy] = await f.db.sql<{ id: string }[]>`
        insert into public.payment_methods
          (user_id, brand, last4, exp_month, exp_year, envelope, envelope_version, kms_key_arn)
        select user_id, brand, last4, exp_month, exp_year, envelope, envelope_version, kms_key_arn
        from public.payment_methods where id = ${row.id}
        returning id`;
      const copied = await handler(
        call("POST", `/${copy!.id}/reveal`, await serviceToken(), { user_id: row.user_id }),
        f.deps,
      );
      assertEquals(copied.status, 422);
      await copied.body?.cancel();
      assertEquals(logs.length, 1);
      assert(logs[0]!.includes("InvalidCiphertextException"), logs[0]);

      // Nothing re-encrypted: the stored bytes and version are as they were.
      const [stored] = await f.db.sql<{ envelope: Uint8Array; envelope_version: number }[]>`
        select envelope, envelope_version from public.payment_methods where id = ${row.id}`;
      assertEquals(stored!.envelope_version, 1);
      assertEquals(new Uint8Array(stored!.envelope), envelope);
      // A new card next to it is written in version 2 under the same KMS key.
      const created = await handler(
        call("POST", "", await userToken(row.user_id), card),
        f.deps,
      );
      assertEquals(created.status, 201);
      const [fresh] = await f.db.sql<{ envelope_version: number }[]>`
        select envelope_version from public.payment_methods where id = ${
        (await created.json()).id
      }`;
      assertEquals(fresh!.envelope_version, 2);
    } finally {
      await close(f);
      await Deno.remove(dir, { recursive: true });
    }
  },
);
