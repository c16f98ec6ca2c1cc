import { assertEquals } from "../../tests/support/assert.ts";
import { machineInfo } from "../load/machine.ts";
import { benchCommand, benchRunSchema, finiteOrNull } from "./bench_run.ts";

Deno.test("benchCommand() writes the task and quotes only what a shell would split", () => {
  assertEquals(
    benchCommand("bench:search", ["--levels", "1,5", "--out=/tmp/x"]),
    "deno task bench:search --levels 1,5 --out=/tmp/x",
  );
  assertEquals(
    benchCommand("bench:kms", ["--out", "my dir/it's"]),
    `deno task bench:kms --out 'my dir/it'\\''s'`,
  );
  assertEquals(benchCommand("bench:kms", []), "deno task bench:kms");
});

Deno.test("finiteOrNull() turns NaN and infinities into null and keeps numbers", () => {
  assertEquals([0, 1.5, NaN, Infinity, -Infinity].map(finiteOrNull), [0, 1.5, null, null, null]);
});

Deno.test("benchRunSchema accepts this machine's description and rejects a run without one", () => {
  const run = {
    startedAt: "2026-11-22T11:00:00.000Z",
    endedAt: "2026-11-22T11:01:00.000Z",
    machine: machineInfo(),
    command: "deno task bench:kms",
  };
  assertEquals(benchRunSchema.parse(run), run);
  const { machine: _, ...withoutMachine } = run;
  assertEquals(benchRunSchema.safeParse(withoutMachine).error?.issues[0]?.path, ["machine"]);
});
