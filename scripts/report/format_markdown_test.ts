import { assertEquals } from "../../tests/support/assert.ts";
import { formatMarkdown } from "./format_markdown.ts";

Deno.test("formatMarkdown() applies deno.json's formatting (line width 100, _emphasis_)", async () => {
  const words = Array.from({ length: 30 }, (_, i) => `w${i}`).join(" ");
  const formatted = await formatMarkdown(`# T\n\n*note* ${words}\n`);
  const lines = formatted.split("\n");
  assertEquals(lines[2]!.startsWith("_note_ w0"), true);
  assertEquals(lines.every((l) => l.length <= 100), true);
  // Formatting is a fixed point: what it returns, it returns unchanged.
  assertEquals(await formatMarkdown(formatted), formatted);
});
