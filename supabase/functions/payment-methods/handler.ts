/**
 * `payment-methods`: a user's saved cards, sealed in KMS envelopes.
 *
 * | route                                  | role          | answer                             |
 * | -------------------------------------- | ------------- | ---------------------------------- |
 * | `GET /payment-methods`                 | authenticated | the caller's cards, masked         |
 * | `POST /payment-methods`                | authenticated | 201 `{ id, brand, last4 }`         |
 * | `DELETE /payment-methods/<id>`         | authenticated | 204                                |
 * | `POST /payment-methods/<id>/reveal`    | service_role  | the card in clear, for booking     |
 *
 * The card number exists in clear only in the request being handled and in the reveal answer:
 * it is never stored, logged, put in an error message or counted in a metric. The envelope is
 * bound to its row `{ payment_method_id, user_id }` through the AEAD's AAD, under a KMS context
 * every card shares `{ environment, purpose }` (so one cached data key serves many new cards): an
 * envelope copied to another row (of another user or the same one) fails to decrypt.
 *
 * @module
 */
import { type AuthVerifier, type Caller, requireRole } from "../_shared/auth.ts";
import { type CircuitBreaker, CircuitOpenError } from "../_shared/circuit_breaker.ts";
import type { Sql } from "../_shared/db.ts";
import { Budget, DeadlineExceeded } from "../_shared/deadline.ts";
import { asUnavailable } from "../_shared/dependency_error.ts";
import { errorResponse, HttpError, invalidInput, json, readJson } from "../_shared/http_error.ts";
import type { EnvelopeCipher, OpenScope } from "../_shared/kms/envelope.ts";
import { defaultContextEnvironment } from "../_shared/kms/kms_config.ts";
import { DecryptionError, KmsRequestError, KmsUnavailableError } from "../_shared/kms/kms_error.ts";
import { asCaller, asServiceRole } from "./as_caller.ts";
import { scrubSecrets } from "./card.ts";
import { newCardSchema, paymentMethodId, revealSchema } from "./request.ts";

/** What the handler needs; `index.ts` wires the isolate's. */
export interface PaymentMethodsDeps {
  /** A pool connected as the database owner (queries run as the caller through RLS). */
  sql: Sql;
  cipher: EnvelopeCipher;
  /** The `environment` of the KMS context (`KMS_CONTEXT_ENVIRONMENT`). @default defaultContextEnvironment */
  kmsEnvironment?: string;
  verify: AuthVerifier;
  /** @default () => new Date() */
  now?: () => Date;
  /** New payment method ids. @default crypto.randomUUID */
  newId?: () => string;
  /** Receives scrubbed lines only. @default console.error */
  log?: (line: string) => void;
  /** A request's budget, ms: KMS calls and queries spend from it. @default 5000 */
  budgetMs?: number;
  /** The isolate's KMS breaker: while open, a request needing KMS answers 503 at once. */
  kmsBreaker?: CircuitBreaker;
  /** The isolate's database breaker. */
  dbBreaker?: CircuitBreaker;
}

/** A request's dependency calls, each through its breaker and within the request's budget. */
interface Calls {
  kms<T>(what: string, work: () => Promise<T>): Promise<T>;
  db<T>(work: () => Promise<T>): Promise<T>;
}

function dependencyCalls(deps: PaymentMethodsDeps, budget: Budget): Calls {
  const through = <T>(breaker: CircuitBreaker | undefined, work: () => Promise<T>) =>
    breaker ? breaker.run(work) : work();
  return {
    kms: (what, work) => through(deps.kmsBreaker, () => budget.run(work(), what, "kms")),
    db: async (work) => {
      try {
        return await through(deps.dbBreaker, () => budget.run(work(), "query", "database"));
      } catch (error) {
        throw asUnavailable("database", error);
      }
    },
  };
}

/** The purpose recorded in every envelope's encryption context. */
export const paymentMethodPurpose = "payment_method";

/** Most cards listed per user. */
const listLimit = 100;

/**
 * What the envelope of payment method `id` of `userId` is bound to: a KMS context shared by every
 * card of the environment, the row as the binding, and the whole context version 1 sent to KMS.
 */
export function paymentMethodScope(environment: string, userId: string, id: string): OpenScope {
  return {
    context: { environment, purpose: paymentMethodPurpose },
    binding: { payment_method_id: id, user_id: userId },
    v1Context: { payment_method_id: id, purpose: paymentMethodPurpose, user_id: userId },
  };
}

interface SealedCard {
  number: string;
  exp_month: number;
  exp_year: number;
  holder_name: string;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function requireUser(caller: Caller): string {
  requireRole(caller, "authenticated");
  if (!caller.sub || !uuidPattern.test(caller.sub)) {
    throw new HttpError(403, "forbidden", "the token does not name a user");
  }
  return caller.sub;
}

function methodNotAllowed(allow: string): HttpError {
  return new HttpError(405, "method_not_allowed", `use ${allow}`, { headers: { allow } });
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.name})` : "";
  return `${error.name}: ${error.message}${cause}`;
}

async function create(
  req: Request,
  deps: PaymentMethodsDeps,
  caller: Caller,
  calls: Calls,
): Promise<Response> {
  const userId = requireUser(caller);
  const body = await readJson(req, 4096);
  const parsed = newCardSchema((deps.now ?? (() => new Date()))()).safeParse(body);
  if (!parsed.success) throw invalidInput(parsed.error);
  const card = parsed.data;
  const id = (deps.newId ?? (() => crypto.randomUUID()))();
  const sealed: SealedCard = {
    number: card.number,
    exp_month: card.exp_month,
    exp_year: card.exp_year,
    holder_name: card.holder_name,
  };
  const plaintext = new TextEncoder().encode(JSON.stringify(sealed));
  let envelope: Uint8Array;
  let version: number;
  let keyArn: string;
  try {
    ({ envelope, version, keyArn } = await calls.kms("KMS encrypt", () =>
      deps.cipher.encrypt(
        plaintext,
        paymentMethodScope(deps.kmsEnvironment ?? defaultContextEnvironment, userId, id),
      )));
  } finally {
    plaintext.fill(0);
  }
  // Only a sealed envelope reaches the insert: a KMS failure above wrote nothing. As
  // service_role: users have no insert privilege of their own (RLS; see asServiceRole).
  const [row] = await calls.db(() =>
    asServiceRole(
      deps.sql,
      caller,
      (tx) =>
        tx<{ id: string; brand: string; last4: string }[]>`
      insert into public.payment_methods
        (id, user_id, brand, last4, exp_month, exp_year, envelope, envelope_version, kms_key_arn)
      values (${id}, ${userId}, ${card.brand}, ${card.last4}, ${card.exp_month},
              ${card.exp_year}, ${envelope}, ${version}, ${keyArn})
      returning id, brand, last4`,
    )
  );
  return json({ id: row!.id, brand: row!.brand, last4: row!.last4 }, { status: 201 });
}

async function list(deps: PaymentMethodsDeps, caller: Caller, calls: Calls): Promise<Response> {
  requireUser(caller);
  const rows = await calls.db(() =>
    asCaller(deps.sql, caller, (tx) =>
      tx<
        {
          id: string;
          brand: string;
          last4: string;
          exp_month: number;
          exp_year: number;
          created_at: Date;
        }[]
      >`
      select id, brand, last4, exp_month, exp_year, created_at
      from public.payment_methods
      order by created_at desc, id
      limit ${listLimit}`)
  );
  return json({
    payment_methods: rows.map((r) => ({
      id: r.id,
      brand: r.brand,
      last4: r.last4,
      exp_month: r.exp_month,
      exp_year: r.exp_year,
      created_at: r.created_at.toISOString(),
    })),
  });
}

async function remove(
  deps: PaymentMethodsDeps,
  caller: Caller,
  id: string,
  calls: Calls,
): Promise<Response> {
  requireUser(caller);
  const rows = await calls.db(() =>
    asCaller(
      deps.sql,
      caller,
      (tx) => tx`delete from public.payment_methods where id = ${id} returning id`,
    )
  );
  if (rows.length === 0) throw new HttpError(404, "not_found", "no such payment method");
  return new Response(null, { status: 204 });
}

async function reveal(
  req: Request,
  deps: PaymentMethodsDeps,
  caller: Caller,
  id: string,
  calls: Calls,
): Promise<Response> {
  requireRole(caller, "service_role");
  const parsed = revealSchema.safeParse(await readJson(req, 1024));
  if (!parsed.success) throw invalidInput(parsed.error);
  const [row] = await calls.db(() =>
    asCaller(
      deps.sql,
      caller,
      (tx) =>
        tx<{ id: string; user_id: string; brand: string; last4: string; envelope: Uint8Array }[]>`
      select id, user_id, brand, last4, envelope
      from public.payment_methods
      where id = ${id} and user_id = ${parsed.data.user_id}`,
    )
  );
  if (!row) throw new HttpError(404, "not_found", "no such payment method for this user");
  // The binding comes from the row, never from the request: an envelope copied onto another row
  // is opened for that row and fails.
  const bytes = await calls.kms("KMS decrypt", () =>
    deps.cipher.decrypt(
      row.envelope,
      paymentMethodScope(deps.kmsEnvironment ?? defaultContextEnvironment, row.user_id, row.id),
    ));
  let card: SealedCard;
  try {
    card = JSON.parse(new TextDecoder().decode(bytes));
  } finally {
    bytes.fill(0);
  }
  return json({
    id: row.id,
    brand: row.brand,
    last4: row.last4,
    number: card.number,
    exp_month: card.exp_month,
    exp_year: card.exp_year,
    holder_name: card.holder_name,
  }, { headers: { "cache-control": "no-store", pragma: "no-cache" } });
}

/** Routes `req`; every error becomes a JSON answer here. */
export async function handler(req: Request, deps: PaymentMethodsDeps): Promise<Response> {
  const log = (line: string) => (deps.log ?? console.error)(scrubSecrets(line));
  const budget = new Budget(deps.budgetMs ?? 5000, { what: "payment-methods request" });
  const calls = dependencyCalls(deps, budget);
  try {
    const path = new URL(req.url).pathname;
    const match = /(?:^|\/)payment-methods(?:\/([^/]+)(?:\/(reveal))?)?\/?$/.exec(path);
    if (!match) throw new HttpError(404, "not_found", "no such route");
    const [, rawId, action] = match;
    let id: string | undefined;
    if (rawId !== undefined) {
      const parsedId = paymentMethodId.safeParse(rawId);
      if (!parsedId.success) {
        throw new HttpError(400, "invalid_request", "expected a payment method id (a UUID)", {
          field: "id",
        });
      }
      id = parsedId.data;
    }
    // Routes are checked before the token so a wrong method answers 405 for everyone, and the
    // token before the body so an unauthenticated caller learns nothing about validation.
    const allow = id === undefined ? "GET, POST" : action ? "POST" : "DELETE";
    if (!allow.split(", ").includes(req.method)) throw methodNotAllowed(allow);
    const caller = await deps.verify(req);
    if (id === undefined) {
      return req.method === "GET"
        ? await list(deps, caller, calls)
        : await create(req, deps, caller, calls);
    }
    return action
      ? await reveal(req, deps, caller, id, calls)
      : await remove(deps, caller, id, calls);
  } catch (error) {
    if (
      error instanceof KmsUnavailableError ||
      (error instanceof CircuitOpenError && error.dependency === "kms") ||
      (error instanceof DeadlineExceeded && error.dependency === "kms")
    ) {
      // A refusal by the open breaker is counted by the breaker, which logged its opening once:
      // a line per refused request would flood the log for the whole outage.
      if (!(error instanceof CircuitOpenError)) {
        log(`payment-methods: KMS unavailable: ${describe(error)}`);
      }
      return errorResponse(
        new HttpError(503, "kms_unavailable", "the key service is unavailable; retry later", {
          headers: { "retry-after": "2" },
          cause: error,
        }),
      );
    }
    if (error instanceof KmsRequestError) {
      log(`payment-methods: KMS refused the request: ${describe(error)}`);
      return errorResponse(
        new HttpError(503, "kms_unavailable", "the key service refused the request", {
          cause: error,
        }),
      );
    }
    if (error instanceof DecryptionError) {
      log(`payment-methods: envelope failed to decrypt: ${describe(error)}`);
      return errorResponse(
        new HttpError(
          422,
          "undecryptable",
          "the stored payment method failed its integrity check",
          {
            cause: error,
          },
        ),
      );
    }
    return errorResponse(
      error,
      (message, err) => log(`${message}: ${typeof err === "string" ? err : describe(err)}`),
    );
  } finally {
    budget.dispose();
  }
}
