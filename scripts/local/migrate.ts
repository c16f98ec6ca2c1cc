/**
 * Applies supabase/migrations/ with the real Supabase CLI (`supabase db push`), the only way this
 * project applies migrations.
 *
 * @module
 */
import { npmBinDir, repoRoot } from "./paths.ts";
import { supabaseCliEnv } from "./supabase_cli_env.ts";

/** Thrown when `supabase db push` fails; the message carries the CLI's own output. */
export class MigrationError extends Error {
  override name = "MigrationError";
}

/** Options for {@link pushMigrations}. */
export interface PushOptions {
  /** Folder holding supabase/ (the CLI's --workdir). @default the repository root */
  workdir?: string;
  /** Print the migrations it would apply without applying them. @default false */
  dryRun?: boolean;
}

/** What the CLI printed. */
export interface PushResult {
  output: string;
  /** Migration files the CLI reported applying (or would apply, in a dry run). */
  applied: string[];
}

/**
 * Runs `supabase db push --remote=<url> --yes` and resolves with what it applied.
 *
 * @throws {MigrationError} with the CLI's output when it exits non-zero.
 */
export async function pushMigrations(url: string, options: PushOptions = {}): Promise<PushResult> {
  const { workdir = repoRoot, dryRun = false } = options;
  const args = ["db", "push", `--remote=${url}`, "--yes", "--workdir", workdir];
  if (dryRun) args.push("--dry-run");
  const out = await new Deno.Command(`${npmBinDir}/supabase`, {
    args,
    cwd: workdir,
    env: supabaseCliEnv(url),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = [new TextDecoder().decode(out.stdout), new TextDecoder().decode(out.stderr)]
    .join("\n")
    .trim();
  if (!out.success) {
    throw new MigrationError(`supabase db push failed (exit ${out.code}):\n${output}`);
  }
  const applied = [...output.matchAll(/Applying migration (\S+\.sql)/g)].map((m) => m[1] ?? "");
  return { output, applied };
}
