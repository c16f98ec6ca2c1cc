/**
 * The local JWT secret and the anon/service_role API keys signed with it, as `supabase status`
 * prints them.
 *
 * With the default secret these are byte-for-byte the well-known keys of Supabase's local
 * development stack, so tools configured for `supabase start` work unchanged.
 *
 * @module
 */
import { SignJWT } from "jose";

/** Supabase's local development JWT secret (public knowledge; never use it for a hosted project). */
export const defaultJwtSecret = "super-secret-jwt-token-with-at-least-32-characters-long";

/** The keys a client needs. */
export interface ApiKeys {
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
}

/** Signs a long-lived API key for `role` as Supabase's local stack does. */
export async function signApiKey(role: "anon" | "service_role", secret: string): Promise<string> {
  return await new SignJWT({ iss: "supabase-demo", role })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setExpirationTime(1983812996)
    .sign(new TextEncoder().encode(secret));
}

/** Keys for `secret` (at least 32 characters). @throws {RangeError} on a short secret. */
export async function apiKeys(secret: string = defaultJwtSecret): Promise<ApiKeys> {
  if (secret.length < 32) throw new RangeError("JWT secret must have at least 32 characters");
  return {
    jwtSecret: secret,
    anonKey: await signApiKey("anon", secret),
    serviceRoleKey: await signApiKey("service_role", secret),
  };
}
