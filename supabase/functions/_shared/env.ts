/**
 * Configuration of a function isolate, read in one place.
 *
 * Every secret a function needs is read through {@link readEnv} with a zod schema, so a missing or
 * malformed value fails the first request with a message naming the variable instead of
 * surfacing later as an empty string.
 *
 * @module
 */
import { z } from "zod";

/** Thrown when the environment lacks a variable or holds a malformed one. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Where environment variables come from; tests pass a plain object. */
export type EnvSource = Record<string, string | undefined>;

/** The process environment as an {@link EnvSource}. */
export function processEnv(): EnvSource {
  return Deno.env.toObject();
}

/**
 * Parses `source` with `schema`, turning the first issue into a {@link ConfigError} that names
 * the variable and what was expected (never the value, which may be a secret).
 *
 * @example
 * ```ts
 * const env = readEnv(z.object({ SUPABASE_URL: z.url() }));
 * ```
 * @throws {ConfigError} when a variable is missing or malformed.
 */
export function readEnv<S extends z.ZodType>(
  schema: S,
  source: EnvSource = processEnv(),
): z.output<S> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join(".") || "(environment)";
    const missing = issue.code === "invalid_type" && source[String(issue.path[0])] === undefined;
    return missing ? `${name} is not set` : `${name}: ${issue.message}`;
  });
  throw new ConfigError(`invalid function environment: ${problems.join("; ")}`);
}

/** A positive integer read from a string variable, with a default when unset. */
export function intVar(defaultValue: number, { min = 1, max = Number.MAX_SAFE_INTEGER } = {}) {
  return z.coerce.number().int().min(min).max(max).default(defaultValue);
}

/**
 * The Postgres URL a function connects with: `DB_POOLER_URL` (Supavisor, transaction mode) when
 * set, else `SUPABASE_DB_URL` (set by Supabase for every function; a direct connection).
 *
 * @throws {ConfigError} when neither is set or the chosen one is not a postgres URL.
 */
export function databaseUrl(source: EnvSource = processEnv()): string {
  const env = readEnv(
    z.object({
      DB_POOLER_URL: z.string().regex(/^postgres(ql)?:\/\//, "expected a postgres:// URL")
        .optional(),
      SUPABASE_DB_URL: z.string().regex(/^postgres(ql)?:\/\//, "expected a postgres:// URL")
        .optional(),
    }),
    source,
  );
  const url = env.DB_POOLER_URL ?? env.SUPABASE_DB_URL;
  if (!url) {
    throw new ConfigError(
      "invalid function environment: neither DB_POOLER_URL nor SUPABASE_DB_URL is set",
    );
  }
  return url;
}
