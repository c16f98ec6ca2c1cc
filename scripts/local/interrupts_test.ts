import { assertEquals } from "../../tests/support/assert.ts";
import { onInterrupt } from "./interrupts.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 50));

Deno.test(
  "onInterrupt() treats a signal within the grace period as the same key press",
  { ignore: Deno.build.os === "windows" },
  async () => {
    // SIGUSR1/2 stand in for SIGINT/SIGTERM: the test runner handles SIGINT itself.
    let clock = 0;
    const calls: string[] = [];
    const remove = onInterrupt({
      first: (signal) => calls.push(`first ${signal}`),
      again: (signal) => calls.push(`again ${signal}`),
    }, { graceMs: 500, now: () => clock, signals: ["SIGUSR1", "SIGUSR2"] });
    try {
      Deno.kill(Deno.pid, "SIGUSR1");
      await tick();
      clock = 10; // deno task's echo of the same Ctrl-C
      Deno.kill(Deno.pid, "SIGUSR1");
      await tick();
      assertEquals(calls, ["first SIGUSR1"]);
      clock = 900; // a person pressing again
      Deno.kill(Deno.pid, "SIGUSR2");
      await tick();
      assertEquals(calls, ["first SIGUSR1", "again SIGUSR2"]);
    } finally {
      remove();
    }
  },
);
