/**
 * Where a deploy goes and how it gets there: the API and database of a hosted project, or of the
 * local stack (the running one, else one started for the command), the small pool the deploy
 * reads through, and — once the deploy lock is held — the {@link Session} every phase reads and
 * writes through.
 *
 * @module
 */
import { PreconditionError } from "../_cli/errors.ts";
import { createPool } from "../../supabase/functions/_shared/db.ts";
import type { RolloutContext } from "./context.ts";
import type { Queryable } from "./executor.ts";
import { type LocalStack, readRunningStack } from "./local_stack.ts";
import type { DeployLock } from "./lock.ts";

/** How the deploy reaches the target's API. */
export interface ApiTarget {
  /** Project or gateway URL; functions at `${apiUrl}/functions/v1/<name>`. */
  apiUrl: string;
  anonKey: string;
}

/** A pool the deploy reads through. */
type Reader = Queryable & { end(options?: { timeout?: number }): Promise<void> };

/** The target of one deploy. */
export interface Target {
  /** The API; undefined only in a dry run of `-e local` without a running stack. */
  readonly api: ApiTarget | undefined;
  /** The target's database URL; undefined only in such a dry run. */
  readonly dbUrl: string | undefined;
  /** Connection for reads (a small pool); undefined in such a dry run or when unreachable in one. */
  reader: Reader | undefined;
  /** Stops the local stack when this command started it. */
  readonly stop?: () => Promise<void>;
}

/** A target once the deploy holds its lock: what the phases read and write through. */
export interface Session {
  readonly api: ApiTarget | undefined;
  readonly dbUrl: string | undefined;
  readonly reader: Queryable | undefined;
  /** The lock's session, through which every write goes; undefined in a dry run. */
  readonly writer: Queryable | undefined;
  readonly lock: DeployLock;
}

/** Where `-e local` finds its stack. */
export interface LocalStackSource {
  /** The running local stack (`npm start` passes its own handle). */
  localStack?: LocalStack;
  /** Starts a local stack for this command when `-e local` finds none running. */
  startLocalStack?: () => Promise<LocalStack>;
}

/**
 * Resolves the target of `ctx.environment` and opens its reader (not yet used: see
 * {@link checkReader}).
 *
 * @throws {PreconditionError} when `-e local` finds no stack and may not start one.
 */
export async function openTarget(ctx: RolloutContext, source: LocalStackSource): Promise<Target> {
  const target = await resolveTarget(ctx, source);
  if (target.dbUrl) {
    target.reader = createPool({
      url: target.dbUrl,
      max: 2,
      statementTimeoutMs: 60_000,
      idleTimeoutS: 30,
      connectTimeoutS: 10,
      applicationName: `rollout:${ctx.environment.name}`,
    });
  }
  return target;
}

async function resolveTarget(ctx: RolloutContext, source: LocalStackSource): Promise<Target> {
  const environment = ctx.environment;
  if (environment.kind === "hosted") {
    const dbUrl = environment.database.source === "local_stack"
      ? undefined
      : environment.database.url;
    return {
      api: { apiUrl: environment.apiUrl!, anonKey: environment.anonKey! },
      dbUrl,
      reader: undefined,
    };
  }
  let stack = source.localStack ?? await readRunningStack();
  let stop: (() => Promise<void>) | undefined;
  if (!stack) {
    if (ctx.options.dryRun) {
      ctx.progress.info(
        "no local stack is running: a real run would start one for the duration of the command",
      );
      return { api: undefined, dbUrl: undefined, reader: undefined };
    }
    if (!source.startLocalStack) {
      throw new PreconditionError(
        "no local stack is running; start it with `npm start` (or `deno task stack`)",
      );
    }
    ctx.progress.info("no local stack running: starting one for this command");
    stack = await source.startLocalStack();
    stop = stack.stop;
  }
  const api = { apiUrl: stack.url, anonKey: stack.anonKey };
  return { api, dbUrl: stack.dbUrl, reader: undefined, ...(stop ? { stop } : {}) };
}

/**
 * Checks that the target's database answers. A dry run goes on without reading (every statement
 * is still shown; current values are not).
 *
 * @throws {PreconditionError} when it does not answer (a real run).
 */
export async function checkReader(ctx: RolloutContext, target: Target): Promise<void> {
  if (!target.reader) return;
  try {
    await target.reader.unsafe("select 1");
  } catch (error) {
    const why = `cannot connect to the ${ctx.environment.name} database: ${
      (error as Error).message
    }`;
    if (!ctx.options.dryRun) throw new PreconditionError(why);
    ctx.progress.info(`${why} (dry run continues without reading)`);
    await target.reader.end({ timeout: 1 });
    target.reader = undefined;
  }
}

/** Closes what {@link openTarget} opened: the reader, and a local stack started for the deploy. */
export async function closeTarget(target: Target): Promise<void> {
  await target.reader?.end({ timeout: 5 });
  await target.stop?.();
}
