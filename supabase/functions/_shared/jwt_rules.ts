/**
 * What every JWT verification in this project demands beyond a valid signature, defined once for
 * the gateway and the functions.
 *
 * A token without `exp` never expires: a leaked one (a service_role key in a log, a screenshot)
 * would be good forever, and Supabase issues every key and session with an `exp`. So a token
 * without one is refused wherever a JWT is verified, as jose's `requiredClaims` does.
 *
 * @module
 */
import { errors } from "jose";

/** Claims a JWT must carry to be accepted. */
export const requiredJwtClaims: readonly string[] = ["exp"];

/**
 * Why a verification failed, in words safe to send back: the reason class only, never the token
 * or a claim's value.
 *
 * @example
 * ```ts
 * try { await jwtVerify(token, key, { requiredClaims: [...requiredJwtClaims] }); }
 * catch (error) { console.log(jwtRejection(error)); } // "token has no exp claim"
 * ```
 */
export function jwtRejection(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "token expired";
  if (error instanceof errors.JWTClaimValidationFailed && error.reason === "missing") {
    return `token has no ${error.claim} claim`;
  }
  return "invalid token";
}
