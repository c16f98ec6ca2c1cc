/**
 * The one door through which the rollout runs external commands and SQL, so a dry run can print
 * every command and statement instead of running it.
 *
 * In a dry run, commands and writing statements are printed and not run; reading statements are
 * printed and run only when a connection is given (inside a read-only transaction), so the dry
 * run can show the current flag without being able to change anything.
 *
 * @module
 */

/** An external command. */
export interface CommandSpec {
  /** Executable path or name. */
  cmd: string;
  args: string[];
  /** Variables added to the inherited environment. Only their names are ever printed. */
  env?: Record<string, string>;
  cwd?: string;
}

/** What a command did. */
export interface CommandResult {
  code: number;
  /** stdout and stderr, interleaved by stream (stdout first). */
  output: string;
}

/** A SQL statement with positional parameters (`$1`, `$2`...). */
export interface Statement {
  text: string;
  params?: readonly unknown[];
}

/** Anything that can run a statement: a postgres.js pool or a reserved connection. */
export interface Queryable {
  // deno-lint-ignore no-explicit-any
  unsafe(text: string, params?: any[]): PromiseLike<any>;
  begin?: unknown;
}

/** Options of {@link Executor}. */
export interface ExecutorOptions {
  /** Print instead of changing anything. */
  dryRun: boolean;
  /** Where printed lines go. @default console.log */
  print?: (line: string) => void;
  /** Also print commands and writes in a live run (always printed in a dry run). @default true */
  echo?: boolean;
  /** Called with every command line and write statement run or printed, for the deployment log. */
  record?: (entry: ExecutedEntry) => void;
}

/** One command or statement as recorded for the log (secrets masked). */
export interface ExecutedEntry {
  kind: "command" | "sql";
  text: string;
  dryRun: boolean;
  /** Exit code for commands run for real. */
  code?: number;
}

/** Replaces the password of any postgres URL in `text` with `***`. */
export function redact(text: string): string {
  return text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]+:)[^@\s]+@/g, "$1***@");
}

/** A shell-like rendering of a command line, quoting arguments that need it, secrets masked. */
export function formatCommand(spec: CommandSpec): string {
  const quote = (arg: string) =>
    /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
  const envNames = Object.keys(spec.env ?? {}).map((name) => `${name}=…`);
  return redact(
    [...envNames, spec.cmd, ...spec.args].map((part, i) => i < envNames.length ? part : quote(part))
      .join(" "),
  );
}

/** Renders a statement with its parameters for printing. */
export function formatStatement(statement: Statement): string {
  const text = statement.text.replace(/\s+/g, " ").trim();
  const params = statement.params ?? [];
  if (params.length === 0) return `${text};`;
  const shown = params.map((p, i) => {
    const value = JSON.stringify(p) ?? String(p);
    // A JSON log passed as a parameter would drown the statement; its size is what matters here.
    return `$${i + 1}=${
      value.length > 160 ? `${value.slice(0, 60)}…(${value.length} chars)` : value
    }`;
  }).join(" ");
  return redact(`${text};  -- ${shown}`);
}

/** Runs (or, in a dry run, prints) commands and SQL for the rollout. */
export class Executor {
  readonly dryRun: boolean;
  readonly #print: (line: string) => void;
  readonly #echo: boolean;
  readonly #record: (entry: ExecutedEntry) => void;

  constructor(options: ExecutorOptions) {
    this.dryRun = options.dryRun;
    this.#print = options.print ?? ((line) => console.log(line));
    this.#echo = options.echo ?? true;
    this.#record = options.record ?? (() => {});
  }

  /**
   * Runs `spec` and resolves with its exit code and output; in a dry run prints it and resolves
   * with code 0 and no output.
   */
  async command(spec: CommandSpec): Promise<CommandResult> {
    const text = formatCommand(spec);
    if (this.dryRun || this.#echo) this.#print(`${this.dryRun ? "[dry-run] " : ""}$ ${text}`);
    if (this.dryRun) {
      this.#record({ kind: "command", text, dryRun: true });
      return { code: 0, output: "" };
    }
    const out = await new Deno.Command(spec.cmd, {
      args: spec.args,
      env: spec.env,
      cwd: spec.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    const output = [decoder.decode(out.stdout), decoder.decode(out.stderr)].join("\n").trim();
    this.#record({ kind: "command", text, dryRun: false, code: out.code });
    return { code: out.code, output };
  }

  /**
   * Runs a statement that changes nothing. In a dry run it is printed, and run inside a
   * read-only transaction when `db` is given; without `db` it resolves `undefined`.
   */
  async read<T>(db: Queryable | undefined, statement: Statement): Promise<T[] | undefined> {
    if (this.dryRun) {
      this.#print(`[dry-run] sql> ${formatStatement(statement)}`);
      if (!db) return undefined;
      return await readOnly<T>(db, statement);
    }
    if (!db) throw new TypeError("Executor.read() needs a connection in a live run");
    return [...await db.unsafe(statement.text, [...(statement.params ?? [])])] as T[];
  }

  /** Runs a statement that changes data; in a dry run only prints it and resolves `[]`. */
  async write<T>(db: Queryable | undefined, statement: Statement): Promise<T[]> {
    const text = formatStatement(statement);
    if (this.dryRun || this.#echo) this.#print(`${this.dryRun ? "[dry-run] " : ""}sql> ${text}`);
    this.#record({ kind: "sql", text, dryRun: this.dryRun });
    if (this.dryRun) return [];
    if (!db) throw new TypeError("Executor.write() needs a connection in a live run");
    return [...await db.unsafe(statement.text, [...(statement.params ?? [])])] as T[];
  }

  /** Prints a line the way commands are printed (prefixed in a dry run). */
  note(line: string): void {
    this.#print(this.dryRun ? `[dry-run] ${line}` : line);
  }
}

/**
 * Runs `statement` inside `BEGIN READ ONLY … ROLLBACK` so that even a mistaken write in a dry run
 * is refused by the server.
 */
async function readOnly<T>(db: Queryable, statement: Statement): Promise<T[]> {
  const begin = (db as { begin?: unknown }).begin;
  if (typeof begin !== "function") {
    throw new TypeError("a dry-run read needs a pool or connection that supports begin()");
  }
  let rows: T[] = [];
  // postgres.js commits when the callback resolves; throwing after the read rolls back instead.
  const rollback = new Error("dry-run rollback");
  try {
    await (begin as (options: string, fn: (tx: Queryable) => Promise<void>) => Promise<unknown>)
      .call(
        db,
        "read only",
        async (tx) => {
          rows = [...await tx.unsafe(statement.text, [...(statement.params ?? [])])] as T[];
          throw rollback;
        },
      );
  } catch (error) {
    if (error !== rollback) throw error;
  }
  return rows;
}
