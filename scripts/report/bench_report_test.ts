// End to end: real (small) benchmark runs write reports/bench/*.json, the readiness report reads
// them with the same schemas and a headless Chromium draws every chart.
import { assert, assertEquals, assertStringIncludes } from "../../tests/support/assert.ts";
import { describeMachine, machineInfo } from "../load/machine.ts";
import { repoRoot } from "../local/paths.ts";
import { searchContenders } from "../bench/search_report.ts";
import { inspectPage } from "./chromium.ts";
import { readReportInputs } from "./inputs.ts";
import { measuredMarkers } from "./readme.ts";
import { updateReadme } from "./readme_main.ts";
import { generateReport } from "./report.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** Runs `deno run -A <script> ...args` from the repository root; throws with its output. */
async function runDeno(script: string, args: string[]): Promise<void> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    cwd: repoRoot,
    env: { DENO_NO_PACKAGE_JSON: "1" },
    stdin: "null",
  }).output();
  if (code !== 0) {
    const text = new TextDecoder();
    throw new Error(
      `${script} exited with ${code}\n${text.decode(stdout)}\n${text.decode(stderr)}`,
    );
  }
}

Deno.test(
  "generateReport() shows what real bench:search and bench:kms runs wrote, charts drawn in Chromium",
  opts,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "pf-bench-report-" });
    try {
      const levels = [1, 3];
      await runDeno("scripts/bench/search.ts", [
        "--levels",
        levels.join(","),
        "--requests",
        "3",
        "--seed-flights",
        "1000",
        "--delay-ms",
        "1",
        "--out",
        `${dir}/bench`,
      ]);
      await runDeno("scripts/bench/kms.ts", [
        "--operations",
        "6",
        "--warmup",
        "0",
        "--rtt-ms",
        "0",
        "--out",
        `${dir}/bench`,
      ]);

      // Both files are read with the schemas the benchmarks validated them with.
      const inputs = await readReportInputs(dir);
      assert(inputs.search.status === "ok", JSON.stringify(inputs.search));
      assert(inputs.kms.status === "ok", JSON.stringify(inputs.kms));
      const search = inputs.search.data;
      const kms = inputs.kms.data;
      const here = machineInfo();
      for (const meta of [search.meta, kms.meta]) {
        assertEquals(meta.machine, here);
        assert(meta.startedAt <= meta.endedAt);
      }
      assertEquals(search.settings.levels, levels);
      assertEquals(search.results.length, levels.length * searchContenders.length);
      for (const level of levels) {
        const legacy = search.results.find((r) => r.contender === "legacy" && r.level === level);
        // The legacy path runs its three queries for every request: nothing is shared.
        assertEquals(legacy?.queriesPerWave.min, 3 * level);
      }
      assert(search.targets.length > 0);
      const pooled = kms.results.find((r) => r.name === "pooled");
      const naive = kms.results.find((r) => r.name === "naive");
      assertEquals(pooled?.connections, 1);
      assertEquals(naive?.connections, 12, "a new client per operation opens a connection each");
      assertEquals(kms.settings.operations, 6);

      const report = await generateReport({ reportsDir: dir });
      const [searchSection, loadSection, kmsSection] = report.model.sections;
      assertEquals(
        [searchSection?.status, loadSection?.status, kmsSection?.status],
        ["ok", "not_run", "ok"],
      );
      assertEquals(searchSection!.ranAt, search.meta.startedAt);
      assertEquals(kmsSection!.ranAt, kms.meta.startedAt);
      assertEquals(searchSection!.machine, describeMachine(here));
      assertEquals(searchSection!.command, search.meta.command);
      assertStringIncludes(search.meta.command, "deno task bench:search --levels 1,3");
      for (const chart of searchSection!.charts) {
        assertEquals(chart.labels, levels.map(String), chart.id);
        assertEquals(chart.datasets.map((d) => d.label), [...searchContenders], chart.id);
        for (const d of chart.datasets) assert(d.data.every((v) => v !== null), chart.id);
      }
      assertEquals(kmsSection!.tables[0]!.rows.length, kms.results.length);
      assertStringIncludes(report.markdown, `run started ${search.meta.startedAt}`);
      assertStringIncludes(report.markdown, search.meta.command);
      assertStringIncludes(report.markdown, kms.meta.command);
      assertStringIncludes(report.markdown, "Targets the benchmark judges itself against");

      const specs = report.model.sections.flatMap((s) => s.charts);
      const page = await inspectPage(`file://${report.htmlPath}`);
      assertEquals(page.errors, []);
      assertEquals(page.chartsRendered, specs.length);
      assertEquals(page.canvases.map((c) => c.id).sort(), specs.map((s) => `chart-${s.id}`).sort());
      for (const canvas of page.canvases) {
        assert(canvas.paintedPixels > 500, `${canvas.id} painted ${canvas.paintedPixels} pixels`);
      }

      // The README's measured block is rewritten from the same files.
      const readme = `${dir}/README.md`;
      await Deno.writeTextFile(
        readme,
        `# R\n${measuredMarkers.start}\nNot measured yet.\n${measuredMarkers.end}\n`,
      );
      assert(await updateReadme(readme, dir));
      // Prose is wrapped by the formatter: compare with line breaks as spaces.
      const text = (await Deno.readTextFile(readme)).replace(/\s+/g, " ");
      assert(!text.includes("Not measured yet"));
      assertStringIncludes(text, search.meta.command);
      assertStringIncludes(text, `run started ${kms.meta.startedAt}`);
      assertStringIncludes(text, describeMachine(here));
      assertStringIncludes(text, "No-database floor");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
