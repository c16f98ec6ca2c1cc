import { assertEquals } from "../../tests/support/assert.ts";
import { main } from "./kms.ts";
import { kmsReportSchema } from "./kms_report.ts";

Deno.test("bench:kms main() runs every scenario and reports counts from the endpoint", {
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const out = await Deno.makeTempDir({ prefix: "pf-bench-kms-" });
  const originalLog = console.log;
  const originalError = console.error;
  console.log = () => {};
  console.error = () => {};
  try {
    const code = await main([
      "--operations=12",
      "--rtt-ms=0",
      "--warmup=0",
      "--max-messages=5",
      `--out=${out}`,
    ]);
    console.log = originalLog;
    console.error = originalError;
    assertEquals(code, 0);
    const report = kmsReportSchema.parse(
      JSON.parse(await Deno.readTextFile(`${out}/kms.json`)),
    );
    const by = Object.fromEntries(report.results.map((s) => [s.name, s]));
    assertEquals(
      report.meta.command,
      `deno task bench:kms --operations=12 --rtt-ms=0 --warmup=0 --max-messages=5 --out=${out}`,
    );
    assertEquals(report.settings.operations, 12);
    assertEquals(by.naive!.connections, 24, "a new client per operation opens a connection each");
    assertEquals(by.pooled!.connections, 1);
    assertEquals(by.pooled!.kmsCalls, { GenerateDataKey: 12, Decrypt: 12 });
    assertEquals(by.pooled_cached!.kmsCalls, { GenerateDataKey: 3, Decrypt: 3 });
    assertEquals(by.aws_encryption_sdk!.kmsCalls, { GenerateDataKey: 3, Decrypt: 3 });
    // New cards: our data key serves 5 rows (the row is in the AAD); the SDK's per-row context
    // makes every row a cache miss, on both sides.
    assertEquals(by.new_cards_pooled_cached!.workload, "new_cards");
    assertEquals(by.new_cards_pooled_cached!.kmsCalls, { GenerateDataKey: 3, Decrypt: 3 });
    assertEquals(by.new_cards_aws_encryption_sdk!.kmsCalls, { GenerateDataKey: 12, Decrypt: 12 });
    assertEquals(
      report.ratios["new cards: GenerateDataKey, AWS Encryption SDK / pooled + cache"],
      4,
    );
    // The count targets are behaviour; the latency targets depend on the machine.
    const met = Object.fromEntries(report.targets.map((t) => [t.name, t.met]));
    assertEquals(report.targets.length, 5);
    assertEquals(met["pooled: new connections"], true);
    assertEquals(met["pooled + cache: KMS calls"], true);
    // 3 GenerateDataKey for 12 new cards (max messages 5) is more than 1 per 100.
    assertEquals(met["new cards, pooled + cache: GenerateDataKey"], false);
    const md = await Deno.readTextFile(`${out}/kms.md`);
    assertEquals(md.includes("| pooled client | same card |"), true);
    assertEquals(
      md.includes("| new cards: pooled client + data-key cache (row in the AAD) |"),
      true,
    );
  } finally {
    console.log = originalLog;
    console.error = originalError;
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("bench:kms main() answers 2 to a bad option", async () => {
  const originalError = console.error;
  const lines: string[] = [];
  console.error = (line: string) => lines.push(line);
  try {
    assertEquals(await main(["--rtt-ms=-5"]), 2);
    assertEquals(lines[0]?.startsWith("error: --rtt-ms:"), true, lines[0]);
    assertEquals(await main(["--nope"]), 2);
  } finally {
    console.error = originalError;
  }
});
