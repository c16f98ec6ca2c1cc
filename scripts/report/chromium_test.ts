import { assert, assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { ChromiumMissingError, inspectPage } from "./chromium.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test("inspectPage() reports console errors, exceptions and blank canvases", opts, async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/page.html`;
    await Deno.writeTextFile(
      path,
      `<!doctype html><body><canvas id="blank" width="10" height="10"></canvas>
<canvas id="drawn" width="10" height="10"></canvas>
<script>
document.getElementById("drawn").getContext("2d").fillRect(0, 0, 5, 2);
console.error("broken chart");
document.body.setAttribute("data-charts-rendered", "1");
undefinedFunction();
</script></body>`,
    );
    const page = await inspectPage(`file://${path}`);
    assertEquals(page.chartsRendered, 1);
    assertEquals(page.canvases, [
      { id: "blank", width: 10, height: 10, paintedPixels: 0 },
      { id: "drawn", width: 10, height: 10, paintedPixels: 10 },
    ]);
    assert(page.errors.some((e) => e === "console.error: broken chart"), page.errors.join("\n"));
    assert(
      page.errors.some((e) => e.includes("undefinedFunction is not defined")),
      page.errors.join("\n"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inspectPage() names what is missing when Chromium is not installed", async () => {
  const error = await assertRejects(
    () => inspectPage("about:blank", { chromium: "/nonexistent/chromium" }),
    ChromiumMissingError,
  );
  assert(error.message.includes("apt-get install -y chromium"));
});
