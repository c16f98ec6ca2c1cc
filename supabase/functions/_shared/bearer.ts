/**
 * The credentials of an `Authorization: Bearer <token>` header, read the same way by the gateway,
 * every function and the metrics scrape check.
 *
 * The scheme is matched case-insensitively: RFC 9110 §11.1 makes every auth-scheme
 * case-insensitive, so `bearer …` and `BEARER …` are the same header as `Bearer …`. A gateway
 * that accepted a scheme the function then refused would answer one request two ways.
 *
 * @module
 */

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
const bearerPattern = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;

/**
 * The token of an `Authorization: Bearer <token>` header, or `undefined` when the header is
 * absent or has another shape (another scheme, no token, two tokens).
 *
 * @example
 * ```ts
 * bearerToken("bearer abc.def.ghi"); // "abc.def.ghi"
 * bearerToken("Basic dXNlcjpwYXNz"); // undefined
 * ```
 */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  return bearerPattern.exec(authorization ?? "")?.[1];
}
