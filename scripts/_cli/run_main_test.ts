import { assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { ConfigError } from "../../supabase/functions/_shared/env.ts";
import { PreconditionError, UsageError } from "./errors.ts";
import { runCommand, showUsage } from "./run_main.ts";

async function run(error: Error, failureCode?: number) {
  const printed: string[] = [];
  const code = await runCommand(() => Promise.reject(error), [], {
    usage: "Usage: x [--port N]",
    printError: (text) => printed.push(text),
    ...(failureCode === undefined ? {} : { failureCode }),
  });
  return { code, printed: printed.join("\n") };
}

Deno.test("runCommand() resolves with main's code and passes the arguments", async () => {
  assertEquals(await runCommand((args) => args.length, ["a", "b"]), 2);
  assertEquals(await runCommand(() => undefined, []), undefined);
});

Deno.test("runCommand() prints a usage error with the usage and resolves 2", async () => {
  assertEquals(await run(new UsageError("--port: expected a number", "--port")), {
    code: 2,
    printed: "error: --port: expected a number\n\nUsage: x [--port N]",
  });
});

Deno.test("runCommand() maps ConfigError to 2 and PreconditionError to 3, without the usage", async () => {
  assertEquals(await run(new ConfigError("X is not set")), {
    code: 2,
    printed: "error: X is not set",
  });
  assertEquals(await run(new PreconditionError("lock held")), {
    code: 3,
    printed: "error: lock held",
  });
});

Deno.test("runCommand() lets other errors propagate unless given a failure code", async () => {
  await assertRejects(() => run(new TypeError("bug")), TypeError, "bug");
  assertEquals(await run(new Error("unreachable"), 1), { code: 1, printed: "error: unreachable" });
});

Deno.test("showUsage() prints the usage and returns 0", () => {
  const printed: string[] = [];
  assertEquals(showUsage("Usage: x", (text) => printed.push(text)), 0);
  assertEquals(printed, ["Usage: x"]);
});
