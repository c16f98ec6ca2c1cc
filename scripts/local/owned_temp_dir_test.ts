import { assert, assertEquals } from "../../tests/support/assert.ts";
import { makeOwnedTempDir, ownerFile, sweepOwnedTempDirs } from "./owned_temp_dir.ts";

Deno.test("makeOwnedTempDir() sweeps the folders of dead owners, keeps the others", async () => {
  const tmp = await Deno.makeTempDir();
  const prefix = `pf-owned-test-${crypto.randomUUID().slice(0, 8)}-`;
  const dead = new Deno.Command("true").spawn();
  await dead.status;
  const make = async (name: string, owner?: number) => {
    await Deno.mkdir(`${tmp}/${prefix}${name}`);
    if (owner !== undefined) {
      await Deno.writeTextFile(`${tmp}/${prefix}${name}/${ownerFile}`, `${owner}\n`);
    }
  };
  try {
    await make("dead", dead.pid);
    await make("alive", Deno.pid);
    await make("unowned");
    assertEquals(await sweepOwnedTempDirs(prefix, tmp), [`${tmp}/${prefix}dead`]);
    const left = [...Deno.readDirSync(tmp)].map((e) => e.name).sort();
    assertEquals(left, [`${prefix}alive`, `${prefix}unowned`]);

    const mine = await makeOwnedTempDir(prefix);
    assertEquals((await Deno.readTextFile(`${mine}/${ownerFile}`)).trim(), `${Deno.pid}`);
    assert((await Deno.stat(mine)).isDirectory);
    await Deno.remove(mine, { recursive: true });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
