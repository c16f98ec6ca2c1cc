/**
 * Whose request is this, for sticky bucketing: the signed-in user (`sub` of the bearer JWT), else
 * the client's session header, else a random id (a fresh bucket per request).
 *
 * The id is bucketed as is (no prefix), as Unleash buckets `userId` or `sessionId`, so anyone can
 * compute a user's bucket with `bucketOf(flag, sub)`.
 *
 * The gateway has already verified the JWT (`verify_jwt = true`), so the token is only decoded
 * here, not verified again. An anon or service key carries no `sub`.
 *
 * @module
 */
import { decodeJwt } from "jose";
import { bearerToken } from "./bearer.ts";
import { HttpError } from "./http_error.ts";

/** Header a client may send to keep its bucket without signing in. */
export const sessionHeader = "x-session-id";

/** ASCII only: the bucket hash must not depend on how a client encodes text. */
const sessionPattern = /^[A-Za-z0-9._:-]{8,128}$/;

/** An id to bucket by, and where it came from. */
export interface RoutingId {
  id: string;
  source: "user" | "session" | "random";
}

function subjectOf(req: Request): string | undefined {
  const token = bearerToken(req.headers.get("authorization"));
  if (token === undefined) return undefined;
  try {
    const { sub } = decodeJwt(token);
    return typeof sub === "string" && sub.length > 0 && sub.length <= 255 ? sub : undefined;
  } catch {
    // Not a JWT: nothing to bucket by. Authentication is the gateway's job, not ours.
    return undefined;
  }
}

/**
 * The routing id of `req`.
 *
 * @throws {HttpError} 400 when the session header is present but malformed.
 */
export function routingId(
  req: Request,
  randomId: () => string = () => crypto.randomUUID(),
): RoutingId {
  const sub = subjectOf(req);
  if (sub) return { id: sub, source: "user" };
  const session = req.headers.get(sessionHeader);
  if (session !== null) {
    if (!sessionPattern.test(session)) {
      throw new HttpError(
        400,
        "invalid_request",
        `${sessionHeader}: expected 8-128 characters of A-Z a-z 0-9 . _ : -`,
        { field: sessionHeader },
      );
    }
    return { id: session, source: "session" };
  }
  return { id: randomId(), source: "random" };
}
