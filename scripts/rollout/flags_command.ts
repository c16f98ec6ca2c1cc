/**
 * `deploy-performance-optimizations.sh flags get|set|disable|sync`: edits of the traffic flags,
 * each written with who (`--actor`, default `$USER@host`) and why (`--reason`), so the trigger
 * puts both into `feature_flag_history`.
 *
 * @module
 */
import { z } from "zod";
import { type OptionList, parseCommandLine, validateOption } from "../_cli/args.ts";
import { ExitCode, PreconditionError, UsageError } from "../_cli/errors.ts";
import { ConfigError } from "../../supabase/functions/_shared/env.ts";
import {
  type EnvironmentName,
  environmentNames,
  loadEnvironments,
  resolveEnvironment,
} from "./environments.ts";
import { Executor, type Queryable } from "./executor.ts";
import {
  defaultActor,
  flagKeySchema,
  readFlag,
  readFlags,
  reasonSchema,
  writeFlag,
} from "./flag_store.ts";
import { type LocalStack, readRunningStack } from "./local_stack.ts";
import { trafficRoutingPath } from "./paths.ts";
import {
  diffFlags,
  fileSide,
  formatDiff,
  formatTrafficRouting,
  readTrafficRouting,
  tableSide,
} from "./traffic_routing.ts";
import { createPool } from "../../supabase/functions/_shared/db.ts";
import type { FlagState } from "../../supabase/functions/_shared/rollout_flag.ts";

/** The flags command's usage text. */
export const flagsUsage =
  `Usage: scripts/deploy-performance-optimizations.sh flags <command> -e <environment> [options]

Commands:
  get [flag]                          show one flag or all flags
  set <flag> --traffic <0..100> --reason <text>
                                      enable the flag for that share of traffic (0 disables it)
  disable <flag> --reason <text>      disable the flag (traffic 0): the manual rollback
  sync --from-file | --to-file        config/traffic-routing.json → table, or table → file;
                                      shows the difference first, applies it with --yes

Options:
  -e, --environment <name>  local | staging | production (config/environments.json)
      --traffic <0..100>    share of traffic for set
      --reason <text>       why (3..500 characters); recorded in the flag history
      --file <path>         file for sync (default: config/traffic-routing.json)
      --yes                 apply the sync without asking
      --actor <name>        who (default: $USER@hostname)
  -d, --dry-run             print the SQL; change nothing
      --json                get: print JSON
  -h, --help                show this help

Every change lands in public.feature_flag_history with who and why; functions pick it up within
their flag cache TTL. Exit codes: 0 done, 2 usage or configuration error, 3 precondition failed
(unknown flag, no database, sync not confirmed).`;

/** A parsed flags command. */
export type FlagsCommand =
  | { kind: "help" }
  | { kind: "get"; environment: EnvironmentName; flag?: string; json: boolean }
  | {
    kind: "set";
    environment: EnvironmentName;
    flag: string;
    traffic: number;
    reason: string;
    actor?: string;
    dryRun: boolean;
  }
  | {
    kind: "disable";
    environment: EnvironmentName;
    flag: string;
    reason: string;
    actor?: string;
    dryRun: boolean;
  }
  | {
    kind: "sync";
    environment: EnvironmentName;
    direction: "from-file" | "to-file";
    file: string;
    yes: boolean;
    actor?: string;
    dryRun: boolean;
  };

const optionList: OptionList = {
  strings: ["environment", "traffic", "reason", "file", "actor"],
  switches: ["from-file", "to-file", "yes", "dry-run", "json"],
  short: { environment: "e", "dry-run": "d" },
};

/** Which options each command accepts (besides -e, -h). */
const allowed: Record<string, string[]> = {
  get: ["json"],
  set: ["traffic", "reason", "actor", "dry-run"],
  disable: ["reason", "actor", "dry-run"],
  sync: ["from-file", "to-file", "file", "yes", "actor", "dry-run"],
};

/** What `flags set` and `flags disable` say a missing option takes. */
const placeholders: Record<string, string> = { traffic: "<0..100>", reason: "<text>" };

const environmentSchema = z.enum(environmentNames, {
  error: (issue) =>
    issue.input === undefined
      ? "is required (local, staging or production)"
      : `must be one of ${environmentNames.join(", ")}, received "${issue.input}"`,
});
const actorSchema = z.string().regex(/^[^\p{Cc}]{1,200}$/u, "expects 1..200 printable characters");
const trafficSchema = z.string().regex(/^\d{1,3}$/, "expects an integer 0..100").transform(Number)
  .pipe(z.number().int().max(100, "must be 0..100"));

/**
 * Parses the arguments after `flags`.
 *
 * @throws {UsageError} for an unknown command, a missing or invalid option, or an option the
 * command does not take.
 */
export function parseFlagsArgs(args: readonly string[]): FlagsCommand {
  const { values, positionals } = parseCommandLine(args, optionList, {
    positionals: true,
    once: true,
  });
  if (values.help) return { kind: "help" };
  const [command, ...rest] = positionals;
  if (!command) throw new UsageError("flags needs a command: get, set, disable or sync");
  const permitted = allowed[command];
  if (!permitted) {
    throw new UsageError(`unknown flags command "${command}" (expected get, set, disable or sync)`);
  }
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && name !== "environment" && !permitted.includes(name)) {
      throw new UsageError(`flags ${command} does not take --${name}`, `--${name}`);
    }
  }
  const environment = validateOption(environmentSchema, values.environment, "--environment");
  const actor = values.actor === undefined
    ? undefined
    : validateOption(actorSchema, values.actor, "--actor");
  const dryRun = values["dry-run"] === true;
  const maxPositionals = command === "sync" ? 0 : 1;
  if (rest.length > maxPositionals) {
    throw new UsageError(`unexpected argument "${rest[maxPositionals]}"`);
  }
  const flag = rest[0] === undefined ? undefined : validateOption(flagKeySchema, rest[0], "<flag>");
  const withActor = <T extends object>(command: T) =>
    actor === undefined ? command : { ...command, actor };

  switch (command) {
    case "get":
      return flag === undefined
        ? { kind: "get", environment, json: values.json === true }
        : { kind: "get", environment, flag, json: values.json === true };
    case "set":
    case "disable": {
      if (flag === undefined) throw new UsageError(`flags ${command} needs a flag name`, "<flag>");
      const needed = command === "set" ? ["traffic", "reason"] : ["reason"];
      const missing = needed.find((name) => values[name] === undefined);
      if (missing) {
        throw new UsageError(
          `flags ${command} needs --${missing} ${placeholders[missing]}`,
          `--${missing}`,
        );
      }
      const traffic = command === "set"
        ? validateOption(trafficSchema, values.traffic, "--traffic")
        : undefined;
      const reason = validateOption(reasonSchema, values.reason, "--reason");
      const change = { environment, flag, reason, dryRun };
      return withActor(
        traffic === undefined
          ? { kind: "disable" as const, ...change }
          : { kind: "set" as const, ...change, traffic },
      );
    }
    default: {
      const from = values["from-file"] === true;
      const to = values["to-file"] === true;
      if (from === to) {
        throw new UsageError("flags sync needs exactly one of --from-file or --to-file");
      }
      const file = values.file === undefined
        ? trafficRoutingPath
        : validateOption(z.string().min(1, "expects a path"), values.file, "--file");
      return withActor({
        kind: "sync" as const,
        environment,
        direction: from ? "from-file" as const : "to-file" as const,
        file,
        yes: values.yes === true,
        dryRun,
      });
    }
  }
}

/** What the flags command needs from outside; tests pass their own. */
export interface FlagsDeps {
  /** Output. @default console.log */
  print?: (line: string) => void;
  /** Environment variables. @default Deno.env.toObject() */
  env?: Record<string, string | undefined>;
  /** config/environments.json. */
  environmentsPath?: string;
  /** The local stack (`npm start` passes its own); else `.local/stack.json` is read. */
  localStack?: LocalStack;
  /** Asks the person to confirm a sync; `undefined` when there is no terminal. */
  confirm?: ((question: string) => boolean) | undefined;
}

async function databaseUrlFor(environment: EnvironmentName, deps: FlagsDeps): Promise<string> {
  const file = await loadEnvironments(deps.environmentsPath);
  const resolved = await resolveEnvironment(file, environment, deps.env ? { env: deps.env } : {});
  if (resolved.database.source !== "local_stack") return resolved.database.url;
  const stack = deps.localStack ?? await readRunningStack();
  if (!stack) {
    throw new PreconditionError(
      "no local stack is running (start it with `npm start`), so there is no local flag table",
    );
  }
  return stack.dbUrl;
}

function describe(flag: FlagState): string {
  return `${flag.flagKey}: ${flag.enabled ? "enabled" : "disabled"} ${flag.trafficPercentage}% ` +
    `(updated ${flag.updatedAt.toISOString()} by ${flag.updatedBy}: ${flag.reason})`;
}

async function warnIfDeploying(db: Queryable, environment: string, print: (line: string) => void) {
  try {
    const rows = await db.unsafe(
      "select deployment_id, holder, acquired_at from public.deployment_locks where environment = $1",
      [environment],
    ) as { deployment_id: string; holder: string; acquired_at: Date }[];
    const lock = rows[0];
    if (lock) {
      print(
        `warning: deploy ${lock.deployment_id} by ${lock.holder} (since ${
          new Date(lock.acquired_at).toISOString()
        }) ` +
          "is running on this environment; it stops when it sees the flag changed under it",
      );
    }
  } catch {
    // an unmigrated database has no lock table; nothing can be deploying through it
  }
}

/**
 * Runs a parsed flags command and resolves with its exit code.
 *
 * @throws {ConfigError} for bad configuration (exit 2).
 * @throws {PreconditionError} for an unknown flag, no database, or an unconfirmed sync (exit 3).
 */
export async function runFlagsCommand(
  command: FlagsCommand,
  deps: FlagsDeps = {},
): Promise<number> {
  const print = deps.print ?? ((line: string) => console.log(line));
  if (command.kind === "help") {
    print(flagsUsage);
    return ExitCode.promoted;
  }
  const url = await databaseUrlFor(command.environment, deps);
  const db = createPool({
    url,
    max: 1,
    statementTimeoutMs: 30_000,
    idleTimeoutS: 5,
    connectTimeoutS: 10,
    applicationName: `rollout-flags:${command.environment}`,
  });
  const dryRun = command.kind !== "get" && command.dryRun;
  const executor = new Executor({ dryRun, print, echo: false });
  try {
    try {
      await db.unsafe("select 1");
    } catch (error) {
      throw new PreconditionError(
        `cannot connect to the ${command.environment} database: ${(error as Error).message}`,
      );
    }
    const actor = ("actor" in command && command.actor) || defaultActor(deps.env);
    switch (command.kind) {
      case "get": {
        const flags = command.flag
          ? [await readFlag(executor, db, command.flag)].filter((f): f is FlagState => !!f)
          : await readFlags(executor, db) ?? [];
        if (command.flag && flags.length === 0) {
          throw new PreconditionError(`no flag ${command.flag}`);
        }
        if (command.json) print(JSON.stringify(flags, null, 2));
        else for (const flag of flags) print(describe(flag));
        return ExitCode.promoted;
      }
      case "set":
      case "disable": {
        const before = await readFlag(executor, db, command.flag);
        if (!before) {
          throw new PreconditionError(`no flag ${command.flag} (flags are created by migrations)`);
        }
        const traffic = command.kind === "set" ? command.traffic : 0;
        await warnIfDeploying(db, command.environment, print);
        const after = await writeFlag(executor, db, {
          flagKey: command.flag,
          enabled: traffic > 0,
          trafficPercentage: traffic,
          actor,
          reason: command.reason,
        });
        print(`before: ${describe(before)}`);
        if (after) print(`after:  ${describe(after)}`);
        return ExitCode.promoted;
      }
      case "sync":
        return await sync(command, { db, executor, actor, print, confirm: deps.confirm });
    }
  } finally {
    await db.end({ timeout: 5 });
  }
}

async function sync(
  command: Extract<FlagsCommand, { kind: "sync" }>,
  ctx: {
    db: Queryable;
    executor: Executor;
    actor: string;
    print: (line: string) => void;
    confirm: FlagsDeps["confirm"];
  },
): Promise<number> {
  const { db, executor, actor, print } = ctx;
  const table = await readFlags(executor, db) ?? [];
  const fileName = command.file;
  if (command.direction === "from-file") {
    const file = await readTrafficRouting(fileName);
    const diff = diffFlags(fileSide(file), tableSide(table));
    const unknown = diff.filter((d) => d.kind === "only_in_source").map((d) => d.flagKey);
    if (unknown.length > 0) {
      throw new PreconditionError(
        `${fileName} names flags the table does not have: ${
          unknown.join(", ")
        } (flags are created by migrations)`,
      );
    }
    const changes = diff.filter((d) => d.kind === "change");
    for (const line of formatDiff(diff, fileName, "table")) print(line);
    if (changes.length === 0) {
      print(`table already matches ${fileName}`);
      return ExitCode.promoted;
    }
    if (
      !confirmed(
        command,
        ctx,
        `apply ${changes.length} change(s) to the ${command.environment} table?`,
      )
    ) {
      throw new PreconditionError("not applied: re-run with --yes to apply the changes above");
    }
    await warnIfDeploying(db, command.environment, print);
    for (const change of changes) {
      const entry = file[change.flagKey]!;
      await writeFlag(executor, db, {
        flagKey: change.flagKey,
        enabled: entry.enabled,
        trafficPercentage: entry.traffic_percentage,
        actor,
        reason: `flags sync --from-file ${fileName}${entry.reason ? `: ${entry.reason}` : ""}`
          .slice(0, 500),
      });
    }
    print(`${executor.dryRun ? "would apply" : "applied"} ${changes.length} change(s)`);
    return ExitCode.promoted;
  }

  const text = formatTrafficRouting(table);
  let current: string | undefined;
  try {
    current = await Deno.readTextFile(fileName);
  } catch {
    current = undefined;
  }
  if (current === text) {
    print(`${fileName} already matches the table`);
    return ExitCode.promoted;
  }
  if (current !== undefined) {
    let side: ReturnType<typeof fileSide> = {};
    try {
      side = fileSide(await readTrafficRouting(fileName));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      print(`${fileName} is not a valid traffic-routing file; it will be replaced`);
    }
    for (const line of formatDiff(diffFlags(tableSide(table), side), "table", fileName)) {
      print(line);
    }
  } else {
    print(`${fileName} does not exist; it will be created`);
  }
  if (!confirmed(command, ctx, `write ${fileName}?`)) {
    throw new PreconditionError("not written: re-run with --yes to write the file");
  }
  if (executor.dryRun) {
    executor.note(`would write ${fileName}:\n${text}`);
    return ExitCode.promoted;
  }
  await Deno.writeTextFile(fileName, text);
  print(`wrote ${fileName}`);
  return ExitCode.promoted;
}

function confirmed(
  command: { yes: boolean; dryRun: boolean },
  ctx: { confirm: FlagsDeps["confirm"] },
  question: string,
): boolean {
  if (command.yes || command.dryRun) return true;
  return ctx.confirm?.(question) ?? false;
}
