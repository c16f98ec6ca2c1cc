import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { dbPushCommand, functionsDeployCommand, supabaseBinary } from "./supabase_cli.ts";

Deno.test("dbPushCommand() targets a URL with --remote=<url> and --yes", () => {
  const spec = dbPushCommand({ url: "postgresql://postgres:pw@db.example.test:5432/postgres" }, {
    binary: "supabase",
    workdir: "/repo",
  });
  assertEquals(spec.cmd, "supabase");
  assertEquals(spec.args, [
    "db",
    "push",
    "--remote=postgresql://postgres:pw@db.example.test:5432/postgres",
    "--yes",
    "--workdir",
    "/repo",
  ]);
  assertEquals(spec.env?.PGSSLMODE, undefined);
  assertEquals(
    dbPushCommand({ url: "postgresql://postgres@127.0.0.1:54322/postgres" }).env?.PGSSLMODE,
    "disable",
  );
});

Deno.test("dbPushCommand() targets the linked project with the password in the environment only", () => {
  const spec = dbPushCommand({
    linked: true,
    passwordVariable: "SUPABASE_DB_PASSWORD",
    password: "s3cret",
  }, {
    binary: "supabase",
    workdir: "/repo",
  });
  assertEquals(spec.args, ["db", "push", "--remote", "--yes", "--workdir", "/repo"]);
  assertEquals(spec.env?.SUPABASE_DB_PASSWORD, "s3cret");
});

Deno.test("functionsDeployCommand() deploys the named functions with --remote=<ref> --use-api --yes", () => {
  const spec = functionsDeployCommand(["flight-search", "health"], "abcdefghijklmnopqrst", {
    binary: "supabase",
    workdir: "/repo",
  });
  assertEquals(spec.args, [
    "functions",
    "deploy",
    "flight-search",
    "health",
    "--remote=abcdefghijklmnopqrst",
    "--use-api",
    "--yes",
    "--workdir",
    "/repo",
  ]);
  assertThrows(() => functionsDeployCommand([], "abcdefghijklmnopqrst"), RangeError);
});

Deno.test("supabaseBinary() prefers SUPABASE_CLI, then the npm-installed CLI", () => {
  assertEquals(supabaseBinary({ SUPABASE_CLI: "/tmp/stub/supabase" }), "/tmp/stub/supabase");
  assertEquals(supabaseBinary({}).endsWith("node_modules/.bin/supabase"), true);
});
