/**
 * The exact Supabase CLI (3.1) command lines the rollout runs.
 *
 * Flags follow CLI 3.1's help: `db push --remote[=<ref|branch|url>]` (its `--db-url` is
 * deprecated), `functions deploy --remote=<ref>` (its `--project-ref` is deprecated), and `--yes`
 * on both because a hosted change without a terminal is refused unless confirmed up front.
 *
 * @module
 */
import type { CommandSpec } from "./executor.ts";
import { npmBinDir, repoRoot } from "./paths.ts";
import { supabaseCliEnv } from "../local/supabase_cli_env.ts";

/**
 * The CLI binary: `SUPABASE_CLI` when set, else the one npm installed (the version the flags
 * here were written for), else `supabase` on PATH.
 */
export function supabaseBinary(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): string {
  if (env.SUPABASE_CLI) return env.SUPABASE_CLI;
  try {
    Deno.statSync(`${npmBinDir}/supabase`);
    return `${npmBinDir}/supabase`;
  } catch {
    return "supabase";
  }
}

/** Where `supabase db push` sends migrations. */
export type PushTarget =
  /** A database URL: `--remote=<url>`. */
  | { url: string }
  /** The linked project: `--remote`, with the password in the CLI's environment. */
  | { linked: true; passwordVariable: string; password: string };

/** Options shared by the command builders. */
export interface CliOptions {
  /** The CLI binary. @default supabaseBinary() */
  binary?: string;
  /** The folder holding supabase/. @default the repository root */
  workdir?: string;
}

/**
 * `supabase db push --remote=<url> --yes --workdir <root>`, or `--remote` for the linked project
 * with the password passed as `SUPABASE_DB_PASSWORD` (never on the command line).
 */
export function dbPushCommand(target: PushTarget, options: CliOptions = {}): CommandSpec {
  const { binary = supabaseBinary(), workdir = repoRoot } = options;
  const env = supabaseCliEnv("url" in target ? target.url : undefined);
  let remote: string;
  if ("url" in target) {
    remote = `--remote=${target.url}`;
  } else {
    remote = "--remote";
    env.SUPABASE_DB_PASSWORD = target.password;
  }
  return {
    cmd: binary,
    args: ["db", "push", remote, "--yes", "--workdir", workdir],
    env,
    cwd: workdir,
  };
}

/**
 * `supabase functions deploy <names...> --remote=<ref> --use-api --yes --workdir <root>`:
 * bundles server-side (no Docker) and deploys to the project.
 */
export function functionsDeployCommand(
  names: readonly string[],
  projectRef: string,
  options: CliOptions = {},
): CommandSpec {
  const { binary = supabaseBinary(), workdir = repoRoot } = options;
  if (names.length === 0) {
    throw new RangeError("functionsDeployCommand() needs at least one function");
  }
  return {
    cmd: binary,
    args: [
      "functions",
      "deploy",
      ...names,
      `--remote=${projectRef}`,
      "--use-api",
      "--yes",
      "--workdir",
      workdir,
    ],
    env: supabaseCliEnv(),
    cwd: workdir,
  };
}
