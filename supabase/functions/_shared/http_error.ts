/**
 * The one error type a handler throws for an HTTP answer, and the one place an error becomes a
 * Response.
 *
 * A client mistake is an {@link HttpError} with a 4xx status: its code, message and field are
 * echoed. A dependency that is down, refusing or too slow (see `dependency_error.ts`) is a 503
 * with `Retry-After` and a code naming it (`database_unavailable`, `kms_unavailable`,
 * `cache_unavailable`, or `dependency_unavailable` when the error does not say which). Anything
 * else is a defect: a 500. Internals of both are logged (without the request body) and never
 * echoed.
 *
 * @module
 */
import type { z } from "zod";
import { unavailableDependency } from "./dependency_error.ts";

/** Body of every error answer: `{ "error": { "code", "message", "field"? } }`. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** Options of an {@link HttpError}, all optional. */
export interface HttpErrorOptions {
  /** The input field at fault, dotted path, when there is one; echoed in the answer. */
  field?: string;
  /** Extra headers for the answer (e.g. `WWW-Authenticate`, `Retry-After`). */
  headers?: HeadersInit;
  /** The error this one answers for; kept for logs and debuggers, never echoed. */
  cause?: unknown;
}

/**
 * An error that maps to a specific HTTP answer.
 *
 * @example
 * ```ts
 * throw new HttpError(405, "method_not_allowed", "use GET", { headers: { allow: "GET" } });
 * ```
 */
export class HttpError extends Error {
  override name = "HttpError";
  /** The input field at fault, when there is one. */
  readonly field: string | undefined;
  /** Extra headers of the answer. */
  readonly headers: HeadersInit;

  /**
   * @param status HTTP status to answer with (4xx for client mistakes).
   * @param code Stable machine-readable code, e.g. `invalid_request`.
   * @param message Human-readable message; safe to show to the caller.
   * @param options The field at fault, extra headers and the cause; see {@link HttpErrorOptions}.
   */
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options: HttpErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.field = options.field;
    this.headers = options.headers ?? {};
  }
}

/** A 400 naming the first invalid field of a zod error. */
export function invalidInput(error: z.ZodError): HttpError {
  const issue = error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join(".") : undefined;
  const message = issue
    ? (field ? `${field}: ${issue.message}` : issue.message)
    : "invalid request";
  return new HttpError(400, "invalid_request", message, { field });
}

/**
 * `input` parsed by `schema`, or a 400 naming the first invalid field. A key a strict schema does
 * not know is named itself (`<key>: unknown <noun>`), so a typo such as `passenger=2` cannot pass
 * unnoticed as a default.
 *
 * @param noun What a key of `input` is to the caller: "parameter", "field".
 * @throws {HttpError} 400 `invalid_request` with the field at fault.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  noun: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  if (issue?.code === "unrecognized_keys" && issue.keys[0] !== undefined) {
    const field = issue.keys[0];
    throw new HttpError(400, "invalid_request", `${field}: unknown ${noun}`, { field });
  }
  throw invalidInput(result.error);
}

/** A JSON response with `cache-control: no-store` unless headers say otherwise. */
export function json(body: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  if (!headers.has("content-type")) headers.set("content-type", "application/json; charset=utf-8");
  if (!headers.has("cache-control")) headers.set("cache-control", "no-store");
  return new Response(JSON.stringify(body), { ...init, headers });
}

/** Something that can record an unexpected failure; defaults to `console.error`. */
export type ErrorLogger = (message: string, error: unknown) => void;

/**
 * Turns any thrown value into the answer: an {@link HttpError} as itself, a dependency failure
 * as a 503 with `Retry-After`, anything else as a 500 with a generic message.
 */
export function errorResponse(
  error: unknown,
  log: ErrorLogger = (message, err) => console.error(message, err),
): Response {
  if (error instanceof HttpError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    if (error.field !== undefined) body.error.field = error.field;
    return json(body, { status: error.status, headers: error.headers });
  }
  const dependency = unavailableDependency(error);
  if (dependency !== undefined) {
    const name = dependency === "unknown" ? "dependency" : dependency;
    // A refusal by an open breaker is expected and counted by the breaker: one line per request
    // would flood the log for the whole outage.
    if (!refusedByBreaker(error)) log(`${name} unavailable`, describe(error));
    const retryAfterS = (error as { retryAfterS?: unknown }).retryAfterS;
    return json(
      {
        error: {
          code: `${name}_unavailable`,
          message: `the ${name === "dependency" ? "service" : name} is unavailable; retry shortly`,
        },
      } satisfies ErrorBody,
      {
        status: 503,
        headers: { "retry-after": String(typeof retryAfterS === "number" ? retryAfterS : 1) },
      },
    );
  }
  log("unhandled error", describe(error));
  return json(
    { error: { code: "internal_error", message: "internal error" } } satisfies ErrorBody,
    { status: 500 },
  );
}

function refusedByBreaker(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e.name === "CircuitOpenError") return true;
  }
  return false;
}

function describe(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const cause = error.cause instanceof Error
    ? ` (cause: ${error.cause.name}: ${error.cause.message})`
    : "";
  return `${error.name}: ${error.message}${cause}`;
}

/** Reads a JSON body, answering 415/400/413 for the ways a client can get that wrong. */
export async function readJson(req: Request, maxBytes = 64 * 1024): Promise<unknown> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError(415, "unsupported_media_type", "content-type must be application/json");
  }
  const text = await req.text();
  if (new TextEncoder().encode(text).byteLength > maxBytes) {
    throw new HttpError(413, "payload_too_large", `body exceeds ${maxBytes} bytes`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "invalid_json", "body is not valid JSON");
  }
}
