import { assert, assertEquals, assertStringIncludes } from "../../tests/support/assert.ts";
import { escapeHtml, renderHtml } from "./html.ts";
import type { ReportModel } from "./model.ts";

const model: ReportModel = {
  title: "T <report>",
  generatedAt: "2026-11-22T12:00:00.000Z",
  machine: "m",
  compliance: { caption: "c", columns: ["a", "b"], rows: [["<b>x</b>", "y"]] },
  sections: [{
    id: "s",
    title: "S",
    status: "ok",
    source: "x.json",
    command: "cmd",
    notes: [],
    tables: [],
    charts: [{
      id: "c1",
      title: "</script><script>alert(1)</script>",
      kind: "bar",
      xTitle: "x",
      yTitle: "y",
      labels: ["a"],
      datasets: [{ label: "d", data: [1] }],
    }],
  }],
};

Deno.test("renderHtml() escapes text and keeps inline data and code inside their scripts", () => {
  const html = renderHtml(model, "window.Chart = function () {}; // </script> in a comment");
  assertStringIncludes(html, "<title>T &lt;report&gt;</title>");
  assertStringIncludes(html, "<td>&lt;b&gt;x&lt;/b&gt;</td>");
  assert(!html.includes("<script>alert(1)"), "chart titles cannot open a script");
  assertStringIncludes(html, '<canvas id="chart-c1"');
  assertEquals(html.match(/<\/script>/g)?.length, 3, "exactly the three script elements close");
  assert(!/\s(src|href)=["']?https?:/i.test(html), "nothing is fetched");
});

Deno.test("escapeHtml() escapes the five special characters", () => {
  assertEquals(
    escapeHtml(`<a href="x">'&'</a>`),
    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
  );
});
