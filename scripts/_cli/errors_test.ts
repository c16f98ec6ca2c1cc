import { assertEquals } from "../../tests/support/assert.ts";
import { ConfigError } from "../../supabase/functions/_shared/env.ts";
import { ExitCode, exitCodeOf, isCommandError, PreconditionError, UsageError } from "./errors.ts";

Deno.test("exitCodeOf() maps usage and configuration errors to 2, preconditions and the rest to 3", () => {
  assertEquals(exitCodeOf(new UsageError("--traffic must be 1..100", "--traffic")), ExitCode.usage);
  assertEquals(exitCodeOf(new ConfigError("STAGING_PROJECT_REF is not set")), ExitCode.usage);
  assertEquals(exitCodeOf(new PreconditionError("lock held")), ExitCode.precondition);
  assertEquals(exitCodeOf(new Error("boom")), ExitCode.precondition);
  assertEquals(isCommandError(new ConfigError("x")), true);
  assertEquals(isCommandError(new TypeError("x")), false);
});
