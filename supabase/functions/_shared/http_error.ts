/**
 * The one error type a handler throws for an HTTP answer, and the one place an error becomes a
 * Response.
 *
 * A client mistake is an {@link HttpError} with a 4xx status: its code, message and field are
 * echoed. Anything else is a 5xx whose internals are logged (without the request body) and never
 * echoed.
 *
 * @module
 */
import type { z } from "zod";

/** Body of every error answer: `{ "error": { "code", "message", "field"? } }`. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** An error that maps to a specific HTTP answer. */
export class HttpError extends Error {
  override name = "HttpError";
  /**
   * @param status HTTP status to answer with (4xx for client mistakes).
   * @param code Stable machine-readable code, e.g. `invalid_request`.
   * @param message Human-readable message; safe to show to the caller.
   * @param field The input field at fault, dotted path, when there is one.
   * @param headers Extra headers for the answer (e.g. `WWW-Authenticate`, `Retry-After`).
   */
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers: HeadersInit = {},
  ) {
    super(message);
  }
}

/** A 400 naming the first invalid field of a zod error. */
export function invalidInput(error: z.ZodError): HttpError {
  const issue = error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join(".") : undefined;
  const message = issue
    ? (field ? `${field}: ${issue.message}` : issue.message)
    : "invalid request";
  return new HttpError(400, "invalid_request", message, field);
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
 * Turns any thrown value into the answer: an {@link HttpError} as itself, anything else as a
 * 500 (or 503 when `error` says a dependency is unavailable) with a generic message.
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
  log("unhandled error", error instanceof Error ? `${error.name}: ${error.message}` : error);
  return json(
    { error: { code: "internal_error", message: "internal error" } } satisfies ErrorBody,
    { status: 500 },
  );
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
