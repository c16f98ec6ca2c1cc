import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStringIncludes,
} from "../../tests/support/assert.ts";
import { ExitCode, UsageError } from "../_cli/errors.ts";
import { parseRolloutArgs } from "./options.ts";

function parseError(args: string[]): UsageError {
  try {
    parseRolloutArgs(args);
  } catch (error) {
    assertInstanceOf(error, UsageError);
    return error;
  }
  throw new Error(`expected ${JSON.stringify(args)} to be refused`);
}

Deno.test("parseRolloutArgs() reads the guide's command lines", () => {
  assertEquals(parseRolloutArgs(["--environment", "staging", "--traffic", "25"]), {
    kind: "rollout",
    options: { environment: "staging", steps: [25], dryRun: false, skipTests: false, force: false },
  });
  assertEquals(parseRolloutArgs(["-e", "production", "-t", "100", "-d", "-s", "-f"]), {
    kind: "rollout",
    options: {
      environment: "production",
      steps: [100],
      dryRun: true,
      skipTests: true,
      force: true,
    },
  });
});

Deno.test("parseRolloutArgs() reads steps, durations, threshold and actor", () => {
  const parsed = parseRolloutArgs([
    "-e",
    "local",
    "--steps",
    "10,25,50,100",
    "--monitor",
    "10m",
    "--interval",
    "30s",
    "--threshold",
    "3",
    "--actor",
    "ci@runner",
  ]);
  assertEquals(parsed, {
    kind: "rollout",
    options: {
      environment: "local",
      steps: [10, 25, 50, 100],
      dryRun: false,
      skipTests: false,
      force: false,
      monitorMs: 600_000,
      intervalMs: 30_000,
      threshold: 3,
      actor: "ci@runner",
    },
  });
  // -t and --steps together: the last step must be the target.
  const both = parseRolloutArgs(["-e", "local", "-t", "50", "--steps", "10,50"]);
  assert(both.kind === "rollout");
  assertEquals(both.options.steps, [10, 50]);
});

Deno.test("parseRolloutArgs() returns help for -h even with other options", () => {
  assertEquals(parseRolloutArgs(["-h"]), { kind: "help" });
  assertEquals(parseRolloutArgs(["-e", "local", "--help"]), { kind: "help" });
});

const invalid: [string[], string][] = [
  [[], "--environment is required"],
  [["-t", "25"], "--environment is required"],
  [["-e", "qa", "-t", "25"], `received "qa"`],
  [["-e", "local"], "give the target traffic"],
  [["-e", "local", "-t", "0"], "--traffic must be 1..100"],
  [["-e", "local", "-t", "101"], "--traffic must be 1..100"],
  [["-e", "local", "-t", "2.5"], "--traffic expects an integer"],
  [["-e", "local", "-t", "ten"], "--traffic expects an integer"],
  [["-e", "local", "-t", "-5"], "ambiguous"],
  [["-e", "local", "-t"], "argument missing"],
  [["-e", "local", "-t", "10", "-t", "20"], "--traffic was given 2 times"],
  [["-e", "local", "--steps", "50,10"], "strictly ascending"],
  [["-e", "local", "--steps", "10,10"], "strictly ascending"],
  [["-e", "local", "--steps", "10,,20"], "comma-separated"],
  [["-e", "local", "--steps", "0,10"], "--steps must be 1..100"],
  [["-e", "local", "--steps", "10,200"], "--steps must be 1..100"],
  [["-e", "local", "-t", "25", "--steps", "10,50"], "must end at the target"],
  [["-e", "local", "-t", "25", "--monitor", "ten minutes"], "expected a duration"],
  [["-e", "local", "-t", "25", "--monitor", "500ms"], "--monitor must be at least 1s"],
  [["-e", "local", "-t", "25", "--monitor", "25h"], "--monitor must be at most 24h"],
  [["-e", "local", "-t", "25", "--interval", "0s"], "--interval must be at least 1s"],
  [
    ["-e", "local", "-t", "25", "--monitor", "30s", "--interval", "1m"],
    "--interval must not be longer",
  ],
  [["-e", "local", "-t", "25", "--threshold", "0"], "--threshold must be 1..100"],
  [["-e", "local", "-t", "25", "--threshold", "x"], "--threshold expects an integer"],
  [["-e", "local", "-t", "25", "--actor", ""], "--actor expects"],
  [["-e", "local", "-t", "25", "--actor", "a\nb"], "--actor expects"],
  [["-e", "local", "-t", "25", "--verbose"], "Unknown option '--verbose'"],
  [["-e", "local", "-t", "25", "-x"], "Unknown option '-x'"],
  [["-e", "local", "-t", "25", "--dry-run=yes"], "does not take an argument"],
  [["-e", "local", "-t", "25", "now"], `unexpected argument "now"`],
];

Deno.test("parseRolloutArgs() refuses every invalid option with a UsageError (exit 2) naming it", () => {
  for (const [args, message] of invalid) {
    const error = parseError(args);
    assertStringIncludes(error.message, message, `for ${JSON.stringify(args)}`);
    assertEquals(error.exitCode, ExitCode.usage);
  }
});
