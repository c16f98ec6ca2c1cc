import { assert, assertEquals, assertStringIncludes } from "../../tests/support/assert.ts";
import { startSearchHeaderServer } from "../load/_search_header_server.ts";
import { runScenario } from "../load/driver.ts";
import { writeSummary } from "../load/main.ts";
import { inspectPage } from "./chromium.ts";
import { generateReport } from "./report.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "generateReport() from driver runs renders every chart in headless Chromium without errors",
  opts,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "pf-report-" });
    const anonKey = "report-test-key";
    const server = startSearchHeaderServer({ anonKey, delayMs: 1 });
    try {
      // Real runs of the built-in driver against a real HTTP server produce the inputs.
      const routes = Array.from({ length: 10 }, (_, i) => ({
        origin: `R${String.fromCharCode(65 + i)}A`,
        destination: "DST",
        departureDate: "2027-01-05",
      }));
      for (const scenario of ["sweep", "cache-medium"]) {
        const summary = await runScenario({
          baseUrl: server.url,
          anonKey,
          scenario,
          durationS: scenario === "sweep" ? 4 : 1,
          vus: scenario === "sweep" ? undefined : 4,
          routes,
        });
        await writeSummary(`${dir}/load/${scenario}.json`, summary);
      }
      const report = await generateReport({ reportsDir: dir });
      const specs = report.model.sections.flatMap((s) => s.charts);
      assert(specs.length >= 4, `charts: ${specs.map((c) => c.id).join(", ")}`);
      assertEquals(report.model.sections.map((s) => s.status), [
        "not_run",
        "ok",
        "not_run",
        "not_run",
      ]);
      assertStringIncludes(report.markdown, "not run:");
      assertStringIncludes(report.markdown, "sweep: per concurrency level and path");

      const html = await Deno.readTextFile(report.htmlPath);
      assert(!/\s(src|href)=["']?https?:/i.test(html), "self-contained: nothing fetched");
      const page = await inspectPage(`file://${report.htmlPath}`);
      assertEquals(page.errors, []);
      assertEquals(page.chartsRendered, specs.length);
      assertEquals(page.canvases.map((c) => c.id).sort(), specs.map((s) => `chart-${s.id}`).sort());
      for (const canvas of page.canvases) {
        assert(canvas.paintedPixels > 500, `${canvas.id} painted ${canvas.paintedPixels} pixels`);
      }
    } finally {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
