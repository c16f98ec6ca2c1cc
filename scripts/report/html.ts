/**
 * Renders the report model as one self-contained HTML file: styles, data and Chart.js inline,
 * nothing fetched. When every chart is drawn the page sets `data-charts-rendered` on <body> to
 * the number drawn (the browser test waits for it).
 *
 * @module
 */
import type { ReportModel } from "./model.ts";
import type { ChartSpec, Section, Table } from "./section.ts";

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/** Makes text safe inside <script>…</script>: no `</script`, no `<!--`. */
function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

function table(t: Table): string {
  if (t.rows.length === 0) return "";
  const head = t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const body = t.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`)
    .join("\n");
  return `<table><caption>${
    escapeHtml(t.caption)
  }</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function chart(spec: ChartSpec): string {
  return `<figure class="chart"><canvas id="chart-${
    escapeHtml(spec.id)
  }" width="560" height="320" ` +
    `role="img" aria-label="${escapeHtml(spec.title)}"></canvas></figure>`;
}

const statusLabel: Record<Section["status"], string> = {
  ok: "measured",
  not_run: "not run",
  invalid: "invalid input",
};

function section(s: Section): string {
  const meta = [
    `source: <code>${escapeHtml(s.source)}</code>`,
    s.status === "ok" ? `command: <code>${escapeHtml(s.command)}</code>` : "",
    s.ranAt ? `run started ${escapeHtml(s.ranAt)}` : "",
    s.machine ? `on ${escapeHtml(s.machine)}` : "",
  ].filter(Boolean).join(" · ");
  return `<section id="${escapeHtml(s.id)}" class="status-${s.status}">
<h2>${escapeHtml(s.title)} <span class="badge">${statusLabel[s.status]}</span></h2>
<p class="meta">${meta}</p>
${s.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join("\n")}
${s.charts.length > 0 ? `<div class="charts">${s.charts.map(chart).join("\n")}</div>` : ""}
${s.tables.map(table).join("\n")}
</section>`;
}

const style = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #1d232a; padding: 0 1rem; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
.meta, .generated { color: #57606a; }
.badge { font-size: .7em; padding: .15em .6em; border-radius: 1em; vertical-align: middle; background: #ddf4e4; color: #1a7f37; }
.status-not_run .badge { background: #eaeef2; color: #57606a; } .status-invalid .badge { background: #ffebe9; color: #cf222e; }
.note { background: #f6f8fa; border-left: 3px solid #8c959f; padding: .4rem .7rem; }
table { border-collapse: collapse; margin: 1rem 0; width: 100%; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: right; white-space: nowrap; }
th:first-child, td:first-child, td:nth-child(2) { text-align: left; }
th { background: #f6f8fa; }
td:last-child { white-space: normal; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
.chart { margin: 0; border: 1px solid #d0d7de; border-radius: 6px; padding: .5rem; }
code { font-size: .95em; }`;

const chartScript = `(function () {
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var palette = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#57606a"];
  var rendered = 0;
  data.charts.forEach(function (spec) {
    var canvas = document.getElementById("chart-" + spec.id);
    new Chart(canvas, {
      type: spec.kind,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (d, i) {
          var color = palette[i % palette.length];
          return { label: d.label, data: d.data, borderColor: color, backgroundColor: color + "cc", spanGaps: true, tension: 0 };
        }),
      },
      options: {
        animation: false,
        responsive: false,
        devicePixelRatio: 1,
        plugins: { title: { display: true, text: spec.title } },
        scales: {
          x: { stacked: !!spec.stacked, title: { display: true, text: spec.xTitle } },
          y: { stacked: !!spec.stacked, beginAtZero: true, title: { display: true, text: spec.yTitle } },
        },
      },
    });
    rendered += 1;
  });
  document.body.setAttribute("data-charts-rendered", String(rendered));
})();`;

/**
 * The report as HTML.
 *
 * @param chartJs The Chart.js UMD bundle (./chart_js.ts), inlined.
 */
export function renderHtml(model: ReportModel, chartJs: string): string {
  const charts = model.sections.flatMap((s) => s.charts);
  const data = JSON.stringify({ charts }).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(model.title)}</title>
<style>${style}</style>
</head>
<body>
<h1>${escapeHtml(model.title)}</h1>
<p class="generated">Generated ${escapeHtml(model.generatedAt)} on ${
    escapeHtml(model.machine)
  }. Every figure below comes from a JSON file written by a run; sections without one say so.</p>
${table(model.compliance)}
${model.sections.map(section).join("\n")}
<script type="application/json" id="report-data">${data}</script>
<script>${scriptSafe(chartJs)}</script>
<script>${chartScript}</script>
</body>
</html>
`;
}
