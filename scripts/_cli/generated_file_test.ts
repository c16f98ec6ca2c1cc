import { assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { UsageError } from "./errors.ts";
import { generatedFileMain } from "./generated_file.ts";

Deno.test("generatedFileMain() writes the file, and with --check exits 1 only when it is stale", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let text = "one\n";
    const file = {
      path: `${dir}/out.txt`,
      render: () => Promise.resolve(text),
      regenerate: "deno run -A gen.ts",
    };
    assertEquals(await generatedFileMain(["--check"], file), 1);
    assertEquals(await generatedFileMain([], file), 0);
    assertEquals(await Deno.readTextFile(file.path), "one\n");
    assertEquals(await generatedFileMain(["--check"], file), 0);
    text = "two\n";
    assertEquals(await generatedFileMain(["--check"], file), 1);
    assertEquals(await Deno.readTextFile(file.path), "one\n", "--check writes nothing");
    await assertRejects(() => generatedFileMain(["--bogus"], file), UsageError, "--bogus");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
