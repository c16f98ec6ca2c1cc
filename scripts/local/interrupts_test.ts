import { assertEquals } from "../../tests/support/assert.ts";
import { onInterrupt } from "./interrupts.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 50));

Deno.test(
  "onInterrupt() treats a signal within the grace period as the same key press",
  { ignore: Deno.build.os === "windows" },
  async () => {
    let clock = 0;
    const calls: string[] = [];
    const remove = onInterrupt({
      first: (signal) => calls.push(`first ${signal}`),
      again: (signal) => calls.push(`again ${signal}`),
    }, { graceMs: 500, now: () => clock });
    try {
      Deno.kill(Deno.pid, "SIGINT");
      await tick();
      clock = 10; // deno task's echo of the same Ctrl-C
      Deno.kill(Deno.pid, "SIGINT");
      await tick();
      assertEquals(calls, ["first SIGINT"]);
      clock = 900; // a person pressing again
      Deno.kill(Deno.pid, "SIGTERM");
      await tick();
      assertEquals(calls, ["first SIGINT", "again SIGTERM"]);
    } finally {
      remove();
    }
  },
);
