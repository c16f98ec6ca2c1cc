/**
 * Phase 1: apply migrations with the real Supabase CLI, check that every table and index the
 * migrations define exists, and ANALYZE the tables the search reads so the planner sees fresh
 * statistics before traffic moves.
 *
 * @module
 */
import type { RolloutContext } from "../context.ts";
import { PreconditionError } from "../../_cli/errors.ts";
import { expectedSchema, hotTables, missingObjects } from "../expected_schema.ts";
import { dbPushCommand, type PushTarget } from "../supabase_cli.ts";
import type { Session } from "../target.ts";

/** How phase 1 reaches the database: the URL, or the linked project. */
export function pushTarget(
  ctx: Pick<RolloutContext, "environment">,
  localDbUrl: string | undefined,
): PushTarget {
  const db = ctx.environment.database;
  switch (db.source) {
    case "url_env":
      return { url: db.url };
    case "linked":
      return { linked: true, passwordVariable: db.passwordVariable, password: db.password };
    case "local_stack":
      // A dry run of `-e local` without a running stack still shows the command's shape.
      return { url: localDbUrl ?? "postgresql://postgres:***@127.0.0.1:54322/postgres" };
  }
}

/**
 * Runs phase 1.
 *
 * @param supabaseBinary The Supabase CLI; its default when undefined.
 * @throws {PreconditionError} when the push fails or an expected object is missing afterwards.
 */
export async function databasePhase(
  ctx: RolloutContext,
  session: Session,
  supabaseBinary: string | undefined,
) {
  await ctx.progress.phase(1, async (phase) => {
    const command = dbPushCommand(
      pushTarget(ctx, session.dbUrl),
      supabaseBinary ? { binary: supabaseBinary } : {},
    );
    const pushed = await ctx.executor.command(command);
    if (pushed.code !== 0) {
      throw new PreconditionError(
        `supabase db push failed (exit ${pushed.code}): ${
          pushed.output.split("\n").slice(-8).join("\n")
        }`,
      );
    }
    const applied = [...pushed.output.matchAll(/Applying migration (\S+\.sql)/g)].map((m) => m[1]);
    if (!ctx.executor.dryRun) {
      phase.info(applied.length > 0 ? `applied ${applied.join(", ")}` : "no pending migrations");
    }

    const expected = await expectedSchema();
    // In a dry run the push did not happen, so checking now would only report what it would create.
    const missing = await missingObjects(
      ctx.executor,
      ctx.executor.dryRun ? undefined : session.reader,
      expected,
    );
    if (missing && missing.length > 0) {
      throw new PreconditionError(`after the push the database lacks: ${missing.join(", ")}`);
    }
    if (missing) {
      phase.info(
        `verified ${expected.tables.length} tables, ${expected.indexes.length} indexes, ${expected.functions.length} function(s)`,
      );
    }

    for (const table of hotTables) {
      await ctx.executor.write(session.writer, { text: `analyze ${table}` });
    }
    if (!ctx.executor.dryRun) {
      phase.detail(
        `${applied.length} migration(s) applied, schema verified, ${hotTables.length} tables analyzed`,
      );
    }
  });
}
