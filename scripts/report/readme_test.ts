import {
  assert,
  assertEquals,
  assertStringIncludes,
  assertThrows,
} from "../../tests/support/assert.ts";
import { measuredMarkers, MeasuredMarkersError, rewriteMeasuredSection } from "./readme.ts";
import { updateReadme } from "./readme_main.ts";

const { start, end } = measuredMarkers;

Deno.test("rewriteMeasuredSection() replaces only what lies between the markers", () => {
  const readme =
    `# Title\n\nIntro.\n\n## Measured results\n${start}\nold\nlines\n${end}\n\n## After\nKept.\n`;
  const next = rewriteMeasuredSection(readme, "new table\n\n");
  assertEquals(
    next,
    `# Title\n\nIntro.\n\n## Measured results\n${start}\nnew table\n${end}\n\n## After\nKept.\n`,
  );
  assertEquals(rewriteMeasuredSection(next, "new table"), next, "idempotent");
});

Deno.test("rewriteMeasuredSection() refuses missing, repeated or reversed markers", () => {
  assertThrows(() => rewriteMeasuredSection("# no markers\n", "x"), MeasuredMarkersError);
  assertThrows(
    () => rewriteMeasuredSection(`${start}\n${end}\n${start}\n`, "x"),
    MeasuredMarkersError,
  );
  const reversed = assertThrows(
    () => rewriteMeasuredSection(`${end}\n${start}\n`, "x"),
    MeasuredMarkersError,
  );
  assertStringIncludes(reversed.message, "comes before");
});

Deno.test("updateReadme() writes the report's markdown between the markers", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/README.md`;
    await Deno.writeTextFile(path, `# R\n${start}\nstale\n${end}\ntail\n`);
    assert(await updateReadme(path, `${dir}/reports`, new Date("2026-11-22T12:00:00Z")));
    const text = await Deno.readTextFile(path);
    assert(!text.includes("stale"));
    assertStringIncludes(text, "Generated 2026-11-22T12:00:00.000Z");
    assertStringIncludes(text, "not run: " + `${dir}/reports/bench/search.json not found`);
    // What follows the section is kept (the formatter may set a blank line after the marker).
    assert(/<!-- [^>]*-->\n+tail\n$/.test(text.slice(text.indexOf(end))), text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
