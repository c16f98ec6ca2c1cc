/**
 * Which errors mean "a dependency is down or slow" (answered 503 with Retry-After and a code
 * naming the dependency) as opposed to a defect (500). Sorted by type and by the machine codes
 * drivers attach — never by message text.
 *
 * @module
 */
import { BatchTimeoutError } from "./coalescer.ts";
import { DeadlineExceeded, type Dependency } from "./deadline.ts";
import { KmsUnavailableError } from "./kms/kms_error.ts";

/** A dependency could not serve the request; `errorResponse` answers it 503. */
export class DependencyUnavailable extends Error {
  override name = "DependencyUnavailable";
  /**
   * @param dependency The dependency at fault; names the code (`database_unavailable`, …).
   * @param options.retryAfterS Seconds for `Retry-After`. @default 1
   */
  constructor(
    readonly dependency: Dependency,
    message: string,
    options: { cause?: unknown; retryAfterS?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.retryAfterS = options.retryAfterS ?? 1;
  }
  readonly retryAfterS: number;
}

/**
 * postgres.js's own connection failures (`code` on a plain Error) and the socket errors of
 * Node's `net`, which both postgres.js and the AWS SDK's handler surface as they are.
 */
const connectionCodes = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * SQLSTATE classes of a server that cannot serve now: 08 connection exception, 53 insufficient
 * resources (too many connections), 57 operator intervention (shutdown, query canceled by
 * statement_timeout or by our cancel).
 */
const unavailableSqlStateClasses = new Set(["08", "53", "57"]);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function isPostgresError(error: unknown): boolean {
  // postgres.js's PostgresError: a server error answer, with a five-character SQLSTATE.
  return error instanceof Error && error.name === "PostgresError" &&
    /^[0-9A-Z]{5}$/.test(codeOf(error) ?? "");
}

/**
 * The dependency `error` says is unavailable: `undefined` for a defect or a client mistake,
 * `"unknown"` for a network or timeout failure whose dependency the error does not carry.
 */
export function unavailableDependency(error: unknown): Dependency | "unknown" | undefined {
  if (error instanceof DependencyUnavailable) return error.dependency;
  if ((error as { name?: unknown } | null)?.name === "CircuitOpenError") {
    return (error as { dependency: Dependency }).dependency;
  }
  if (error instanceof KmsUnavailableError) return "kms";
  if (error instanceof DeadlineExceeded) return error.dependency ?? "unknown";
  if (error instanceof BatchTimeoutError) return "database";
  if (isPostgresError(error)) {
    return unavailableSqlStateClasses.has(codeOf(error)!.slice(0, 2)) ? "database" : undefined;
  }
  const code = codeOf(error);
  if (code && connectionCodes.has(code)) return code.startsWith("CONNECT") ? "database" : "unknown";
  return undefined;
}

/** Whether `error` counts against a dependency (breakers count only these). */
export function isDependencyFailure(error: unknown): boolean {
  return unavailableDependency(error) !== undefined;
}

/**
 * `error` as a {@link DependencyUnavailable} of `dependency` when it is a dependency failure,
 * else `error` itself: a step that knows what it was waiting for names it.
 */
export function asUnavailable(dependency: Dependency, error: unknown): unknown {
  if (error instanceof DependencyUnavailable) return error;
  const found = unavailableDependency(error);
  if (found === undefined) return error;
  const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return new DependencyUnavailable(
    found === "unknown" ? dependency : found,
    `${found === "unknown" ? dependency : found} unavailable: ${
      error instanceof Error ? error.name : typeof error
    }`,
    {
      cause: error,
      retryAfterS: typeof retryAfterMs === "number" ? Math.ceil(retryAfterMs / 1000) : 1,
    },
  );
}
