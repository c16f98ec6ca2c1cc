/**
 * `npm start`: the main job on a fresh machine — the local stack up and serving until Ctrl-C.
 *
 * @module
 */
import { parseStackArgs, startFromCli, UsageError } from "./local/main.ts";

let options;
try {
  options = parseStackArgs(Deno.args);
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`error: ${error.message}\nRun \`deno task stack --help\` for the options.`);
  Deno.exit(2);
}
if (options.help) {
  console.log("Usage: npm start [-- --once] [--port N] [--db-port N] [--seed-flights N]");
  Deno.exit(0);
}
const stack = await startFromCli(options);
if (options.once) {
  await stack.stop();
  Deno.exit(0);
}
console.log("Serving until Ctrl-C.");
