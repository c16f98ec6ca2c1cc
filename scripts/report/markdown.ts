/**
 * Renders the report model as markdown: the summary printed by `npm run report`, written beside
 * the HTML, and (its body) the README's "Measured results" section.
 *
 * @module
 */
import type { ReportModel } from "./model.ts";
import type { Section, Table } from "./section.ts";

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** A markdown table (nothing for a table without rows). */
export function markdownTable(t: Table): string {
  if (t.rows.length === 0) return "";
  const right = t.columns.map((_, i) => (i < 2 ? ":---" : "---:"));
  return [
    `*${cell(t.caption)}*`,
    "",
    `| ${t.columns.map(cell).join(" | ")} |`,
    `| ${right.join(" | ")} |`,
    ...t.rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");
}

function section(s: Section, level: string): string {
  const parts = [`${level} ${s.title}`, ""];
  const meta = [
    `Source: \`${s.source}\``,
    s.status === "ok" ? `command: \`${s.command}\`` : "",
    s.ranAt ? `run started ${s.ranAt}` : "",
    s.machine ? `on ${s.machine}` : "",
  ].filter(Boolean).join(", ");
  parts.push(meta + ".", "");
  for (const note of s.notes) parts.push(`> ${note}`, "");
  for (const t of s.tables) {
    const rendered = markdownTable(t);
    if (rendered) parts.push(rendered, "");
  }
  return parts.join("\n");
}

/**
 * The markdown body (no top-level heading), headings starting at `level` (e.g. `###`).
 */
export function renderMarkdownBody(model: ReportModel, level = "##"): string {
  return [
    `Generated ${model.generatedAt} on ${model.machine}. Every figure comes from a JSON file ` +
    'written by a run (`reports/`); sections without one say "not run".',
    "",
    markdownTable(model.compliance),
    "",
    ...model.sections.map((s) => section(s, level)),
  ].join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

/** The full markdown report, with its title. */
export function renderMarkdown(model: ReportModel): string {
  return `# ${model.title}\n\n${renderMarkdownBody(model, "##")}`;
}
