/**
 * Who is calling: the bearer JWT of a request, verified by the function itself (the gateway's
 * `verify_jwt` check is not relied on alone, and the claims are needed for RLS).
 *
 * HS256 with `JWT_SECRET` when that is set (the local stack; projects on the legacy shared
 * secret), else the project's signing keys from `${SUPABASE_URL}/auth/v1/.well-known/jwks.json`
 * (asymmetric JWT signing keys), fetched and cached by jose.
 *
 * The rules are the gateway's: the `Bearer` scheme in any case (`_shared/bearer.ts`) and a token
 * without `exp` refused (`_shared/jwt_rules.ts`).
 *
 * @module
 */
import { createRemoteJWKSet, type JWTPayload, jwtVerify, type JWTVerifyGetKey } from "jose";
import { z } from "zod";
import { bearerToken } from "./bearer.ts";
import { ConfigError, type EnvSource, processEnv, readEnv } from "./env.ts";
import { HttpError } from "./http_error.ts";
import { jwtRejection, requiredJwtClaims } from "./jwt_rules.ts";

/** A verified caller. */
export interface Caller {
  /** The `role` claim: `anon`, `authenticated`, `service_role`, ... */
  role: string;
  /** The `sub` claim (the user id) when present. */
  sub?: string;
  /** Every claim of the token (for `request.jwt.claims`). */
  claims: JWTPayload & { role: string };
}

/** Options for {@link createAuthVerifier}: exactly one of `jwtSecret` and `jwksUrl`. */
export interface AuthOptions {
  /** HS256 shared secret (at least 32 characters). */
  jwtSecret?: string;
  /** JWKS URL of the project's asymmetric signing keys. */
  jwksUrl?: URL;
  /** Clock for `exp`/`nbf`. @default () => new Date() */
  now?: () => Date;
  /** Tolerated clock skew in seconds. @default 30 */
  clockToleranceS?: number;
}

/** Verifies the caller of a request. */
export type AuthVerifier = (req: Request) => Promise<Caller>;

const challenge = 'Bearer realm="functions"';
/** A compact JWS: three base64url parts, the last (signature) possibly empty. */
const jwtShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function unauthorized(message: string, invalidToken: boolean): HttpError {
  return new HttpError(401, "unauthorized", message, {
    headers: {
      "www-authenticate": invalidToken ? `${challenge}, error="invalid_token"` : challenge,
    },
  });
}

/**
 * A verifier for `options`.
 *
 * @example
 * ```ts
 * const verify = createAuthVerifier({ jwtSecret: Deno.env.get("JWT_SECRET") });
 * const caller = await verify(req); // { role: "authenticated", sub: "…", claims }
 * ```
 * @throws {ConfigError} unless exactly one of `jwtSecret` and `jwksUrl` is given.
 */
export function createAuthVerifier(options: AuthOptions): AuthVerifier {
  const { jwtSecret, jwksUrl, now = () => new Date(), clockToleranceS = 30 } = options;
  if ((jwtSecret === undefined) === (jwksUrl === undefined)) {
    throw new ConfigError("auth needs exactly one of a JWT secret and a JWKS URL");
  }
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    throw new ConfigError("JWT_SECRET must have at least 32 characters");
  }
  const key: Uint8Array | JWTVerifyGetKey = jwtSecret !== undefined
    ? new TextEncoder().encode(jwtSecret)
    : createRemoteJWKSet(jwksUrl!, { timeoutDuration: 3000, cooldownDuration: 30_000 });
  const algorithms = jwtSecret !== undefined ? ["HS256"] : ["ES256", "RS256", "EdDSA"];

  return async (req: Request): Promise<Caller> => {
    const header = req.headers.get("authorization");
    if (!header) throw unauthorized("missing authorization header", false);
    const token = bearerToken(header);
    if (token === undefined || !jwtShape.test(token)) {
      throw unauthorized("authorization header must be 'Bearer <jwt>'", true);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key as Uint8Array, {
        algorithms,
        currentDate: now(),
        clockTolerance: clockToleranceS,
        requiredClaims: [...requiredJwtClaims],
      }));
    } catch (error) {
      // The reason class only (expired, bad signature); never the token.
      const code = (error as { code?: string }).code;
      // With a JWKS, a failed fetch (network error, non-200) is our outage, not a bad token.
      const keysUnavailable = code === undefined || code === "ERR_JWKS_TIMEOUT" ||
        code === "ERR_JOSE_GENERIC";
      if (jwksUrl !== undefined && keysUnavailable) {
        throw new HttpError(503, "auth_unavailable", "signing keys could not be fetched", {
          headers: { "retry-after": "5" },
          cause: error,
        });
      }
      throw unauthorized(jwtRejection(error), true);
    }
    if (typeof payload.role !== "string" || payload.role.length === 0) {
      throw unauthorized("token has no role claim", true);
    }
    return {
      role: payload.role,
      ...(typeof payload.sub === "string" ? { sub: payload.sub } : {}),
      claims: payload as Caller["claims"],
    };
  };
}

/**
 * Reads {@link AuthOptions} from the environment: `JWT_SECRET` when set, else the JWKS of
 * `SUPABASE_URL`.
 *
 * @throws {ConfigError} when neither is set or one is malformed.
 */
export function authOptions(source: EnvSource = processEnv()): AuthOptions {
  const env = readEnv(
    z.object({
      JWT_SECRET: z.string().min(32, "must have at least 32 characters").optional(),
      SUPABASE_URL: z.url().optional(),
    }),
    source,
  );
  if (env.JWT_SECRET) return { jwtSecret: env.JWT_SECRET };
  if (env.SUPABASE_URL) {
    return { jwksUrl: new URL("/auth/v1/.well-known/jwks.json", env.SUPABASE_URL) };
  }
  throw new ConfigError("invalid function environment: neither JWT_SECRET nor SUPABASE_URL is set");
}

/**
 * Throws 403 unless `caller` has one of `roles`.
 *
 * @throws {HttpError} 403 `forbidden`.
 */
export function requireRole(caller: Caller, ...roles: string[]): void {
  if (!roles.includes(caller.role)) {
    throw new HttpError(403, "forbidden", `this route requires role ${roles.join(" or ")}`);
  }
}
