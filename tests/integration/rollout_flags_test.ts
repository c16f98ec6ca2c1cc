import { assert, assertEquals, assertRejects, assertStringIncludes } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import { PreconditionError } from "../../scripts/_cli/errors.ts";
import { Executor } from "../../scripts/rollout/executor.ts";
import { acquireDeployLock } from "../../scripts/rollout/lock.ts";
import { parseFlagsArgs, runFlagsCommand } from "../../scripts/rollout/flags_command.ts";
import type { LocalStack } from "../../scripts/rollout/local_stack.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const flag = "flight_search_optimization";

function harness(dbUrl: string, confirm?: (q: string) => boolean) {
  const lines: string[] = [];
  const localStack: LocalStack = {
    url: "http://127.0.0.1:9",
    anonKey: "x".repeat(40),
    serviceRoleKey: "y".repeat(40),
    dbUrl,
  };
  const run = (...args: string[]) =>
    runFlagsCommand(parseFlagsArgs(["-e", "local", ...args]), {
      print: (line) => lines.push(line),
      localStack,
      env: { USER: "tester" },
      confirm,
    });
  return { lines, run };
}

Deno.test("flags set/disable write who and why into the history", opts, async () => {
  const db = await testDatabase({ seeded: false });
  try {
    const { run, lines } = harness(db.url);
    assertEquals(
      await run(
        "set",
        flag,
        "--traffic",
        "25",
        "--reason",
        "canary by hand",
        "--actor",
        "alice@ops",
      ),
      0,
    );
    assertEquals(await run("disable", flag, "--reason", "manual rollback: errors up"), 0);
    const history = await db.sql`
      select operation, old_traffic_percentage, new_enabled, new_traffic_percentage, updated_by, reason
      from public.feature_flag_history where flag_key = ${flag} order by id`;
    assertEquals(history.slice(1).map((r) => ({ ...r })), [
      {
        operation: "UPDATE",
        old_traffic_percentage: 0,
        new_enabled: true,
        new_traffic_percentage: 25,
        updated_by: "alice@ops",
        reason: "canary by hand",
      },
      {
        operation: "UPDATE",
        old_traffic_percentage: 25,
        new_enabled: false,
        new_traffic_percentage: 0,
        updated_by: `tester@${Deno.hostname()}`,
        reason: "manual rollback: errors up",
      },
    ]);
    assertStringIncludes(lines.join("\n"), "after:  flight_search_optimization: disabled 0%");

    await assertRejects(
      () => run("set", "no_such_flag", "--traffic", "5", "--reason", "xyz"),
      PreconditionError,
      "no flag no_such_flag",
    );
    lines.length = 0;
    assertEquals(await run("get", "--json"), 0);
    assertEquals(JSON.parse(lines.join("\n"))[0].trafficPercentage, 0);
  } finally {
    await db.drop();
  }
});

Deno.test(
  "flags sync round-trips config/traffic-routing.json through the table",
  opts,
  async () => {
    const db = await testDatabase({ seeded: false });
    const dir = await Deno.makeTempDir();
    const file = `${dir}/traffic-routing.json`;
    try {
      // The guide's manual edit, with a reason, applied to the table.
      await Deno.writeTextFile(
        file,
        JSON.stringify({
          [flag]: { enabled: true, traffic_percentage: 40, reason: "raise to 40 after review" },
        }),
      );
      const { run, lines } = harness(db.url);
      await assertRejects(
        () => run("sync", "--from-file", "--file", file),
        PreconditionError,
        "--yes",
      );
      let [row] = await db
        .sql`select enabled, traffic_percentage from public.feature_flags where flag_key = ${flag}`;
      assertEquals(
        { ...row },
        { enabled: false, traffic_percentage: 0 },
        "nothing applied without --yes",
      );
      assertStringIncludes(
        lines.join("\n"),
        "~ flight_search_optimization: table disabled 0% → enabled 40%",
      );

      assertEquals(await run("sync", "--from-file", "--file", file, "--yes"), 0);
      [row] = await db
        .sql`select enabled, traffic_percentage, reason from public.feature_flags where flag_key = ${flag}`;
      assertEquals({ ...row }, {
        enabled: true,
        traffic_percentage: 40,
        reason: `flags sync --from-file ${file}: raise to 40 after review`,
      });

      // Table → file, then file → table changes nothing, and the file comes back byte-identical.
      const snapshot = `${dir}/snapshot.json`;
      assertEquals(await run("sync", "--to-file", "--file", snapshot, "--yes"), 0);
      const first = await Deno.readTextFile(snapshot);
      assertEquals(JSON.parse(first)[flag].traffic_percentage, 40);
      const historyBefore = await db
        .sql`select count(*)::int as n from public.feature_flag_history`;
      lines.length = 0;
      assertEquals(await run("sync", "--from-file", "--file", snapshot, "--yes"), 0);
      assertStringIncludes(lines.join("\n"), "table already matches");
      const historyAfter = await db.sql`select count(*)::int as n from public.feature_flag_history`;
      assertEquals(historyAfter[0]?.n, historyBefore[0]?.n);
      assertEquals(await run("sync", "--to-file", "--file", snapshot, "--yes"), 0);
      assertEquals(await Deno.readTextFile(snapshot), first);

      // A confirmed prompt applies too; a flag the table lacks is refused.
      const asked: string[] = [];
      const confirming = harness(db.url, (q) => {
        asked.push(q);
        return true;
      });
      await Deno.writeTextFile(
        file,
        JSON.stringify({ [flag]: { enabled: false, traffic_percentage: 0 } }),
      );
      assertEquals(await confirming.run("sync", "--from-file", "--file", file), 0);
      assert(asked.length === 1);
      await Deno.writeTextFile(
        file,
        JSON.stringify({ made_up_flag: { enabled: false, traffic_percentage: 0 } }),
      );
      await assertRejects(
        () => run("sync", "--from-file", "--file", file, "--yes"),
        PreconditionError,
        "made_up_flag",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
      await db.drop();
    }
  },
);

Deno.test(
  "flags set during a running deploy warns who is deploying, and still applies",
  opts,
  async () => {
    const db = await testDatabase({ seeded: false });
    const quiet = new Executor({ dryRun: false, echo: false, print: () => {} });
    const lock = await acquireDeployLock(db.url, {
      environment: "local",
      deploymentId: "dep_20261122_140000_aaaaaa",
      holder: "alice@laptop",
      executor: quiet,
    });
    try {
      const { run, lines } = harness(db.url);
      assertEquals(await run("disable", flag, "--reason", "emergency stop"), 0);
      assertStringIncludes(
        lines.join("\n"),
        "warning: deploy dep_20261122_140000_aaaaaa by alice@laptop",
      );
      const [row] = await db.sql`select reason from public.feature_flags where flag_key = ${flag}`;
      assertEquals(row?.reason, "emergency stop");
    } finally {
      await lock.release();
      await db.drop();
    }
  },
);

Deno.test("flags --dry-run prints the update and changes nothing", opts, async () => {
  const db = await testDatabase({ seeded: false });
  try {
    const { run, lines } = harness(db.url);
    const before = await db.sql`select count(*)::int as n from public.feature_flag_history`;
    assertEquals(await run("set", flag, "--traffic", "50", "--reason", "try", "--dry-run"), 0);
    assertStringIncludes(lines.join("\n"), "[dry-run] sql> update public.feature_flags");
    const after = await db.sql`select count(*)::int as n from public.feature_flag_history`;
    assertEquals(after[0]?.n, before[0]?.n);
  } finally {
    await db.drop();
  }
});
