import { assert, assertEquals, assertStringIncludes } from "../../tests/support/assert.ts";
import {
  type ExecutedEntry,
  Executor,
  formatCommand,
  formatStatement,
  redact,
} from "./executor.ts";

Deno.test("redact() masks the password of every postgres URL", () => {
  assertEquals(
    redact(
      "--remote=postgresql://postgres:s3cr%40t@db.x.supabase.co:5432/postgres and postgres://u:p@h/d",
    ),
    "--remote=postgresql://postgres:***@db.x.supabase.co:5432/postgres and postgres://u:***@h/d",
  );
  assertEquals(
    redact("postgresql://postgres@127.0.0.1:5432/db"),
    "postgresql://postgres@127.0.0.1:5432/db",
  );
});

Deno.test("formatCommand() quotes arguments, names env variables without values, masks URLs", () => {
  const text = formatCommand({
    cmd: "supabase",
    args: ["db", "push", "--remote=postgresql://postgres:pw@h:5432/postgres", "it's"],
    env: { SUPABASE_DB_PASSWORD: "hunter2" },
  });
  assertEquals(
    text,
    `SUPABASE_DB_PASSWORD=… supabase db push --remote=postgresql://postgres:***@h:5432/postgres 'it'\\''s'`,
  );
});

Deno.test("formatStatement() shows parameters and shortens long ones", () => {
  assertEquals(formatStatement({ text: "select\n  1" }), "select 1;");
  const long = "x".repeat(500);
  const text = formatStatement({ text: "insert into t values ($1, $2)", params: [7, long] });
  assertStringIncludes(text, "$1=7");
  assertStringIncludes(text, "(502 chars)");
});

Deno.test("Executor in a dry run prints commands and writes and runs neither", async () => {
  const dir = await Deno.makeTempDir();
  const lines: string[] = [];
  const recorded: ExecutedEntry[] = [];
  const executor = new Executor({
    dryRun: true,
    print: (l) => lines.push(l),
    record: (e) => recorded.push(e),
  });
  try {
    const result = await executor.command({ cmd: "touch", args: [`${dir}/made`] });
    assertEquals(result, { code: 0, output: "" });
    let ran = false;
    const db = {
      unsafe() {
        ran = true;
        return Promise.resolve([]);
      },
    };
    assertEquals(await executor.write(db, { text: "delete from t" }), []);
    assertEquals(ran, false);
    assertEquals(await executor.read(undefined, { text: "select 1" }), undefined);
    assertEquals([...Deno.readDirSync(dir)].length, 0, "the command must not have run");
    assertEquals(lines, [
      `[dry-run] $ touch ${dir}/made`,
      "[dry-run] sql> delete from t;",
      "[dry-run] sql> select 1;",
    ]);
    assertEquals(recorded.map((e) => [e.kind, e.dryRun]), [["command", true], ["sql", true]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Executor in a live run runs commands and reports exit code and output", async () => {
  const lines: string[] = [];
  const recorded: ExecutedEntry[] = [];
  const executor = new Executor({
    dryRun: false,
    print: (l) => lines.push(l),
    record: (e) => recorded.push(e),
  });
  const ok = await executor.command({ cmd: "sh", args: ["-c", "echo out; echo err >&2"] });
  assertEquals(ok, { code: 0, output: "out\n\nerr" });
  const failed = await executor.command({ cmd: "sh", args: ["-c", "exit 7"] });
  assertEquals(failed.code, 7);
  assertEquals(recorded.map((e) => e.code), [0, 7]);
  assert(lines[0]!.startsWith("$ sh -c"));
});
