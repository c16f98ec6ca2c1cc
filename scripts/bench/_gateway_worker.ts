/**
 * The local gateway on its own thread, for the isolates series of bench:search: the benchmark's
 * HTTP client then does not share an event loop with the gateway it measures through.
 * Messages in: `{ start: { jwtSecret, name, verifyJwt } }`, `{ ports: number[] }` (the isolates
 * to route `name` to, round robin), `{ cmd: "close" }`; answered with `{ url }` or `{ ok: true }`,
 * or `{ error }`.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type Gateway, type Route, startGateway } from "../local/gateway.ts";
import { freePort } from "../local/ports.ts";
import { answerMessages } from "./_worker_answers.ts";

let gateway: Gateway | undefined;
let functionName = "";
let verifyJwt = true;
const routes = new Map<string, Route>();

answerMessages(async (data) => {
  const message = data as {
    start?: { jwtSecret: string; name: string; verifyJwt: boolean };
    ports?: number[];
    cmd?: string;
  };
  if (message.start) {
    ({ name: functionName, verifyJwt } = message.start);
    gateway = startGateway({ port: freePort(), jwtSecret: message.start.jwtSecret, routes });
    return { url: gateway.url };
  } else if (message.ports) {
    // The isolates live in the parent thread; one that died answers 502, counted as an error.
    const upstreams = message.ports.map((port) => ({ port, alive: () => true }));
    routes.set(functionName, { verifyJwt, upstreams });
    return { ok: true };
  } else if (message.cmd === "close") {
    await gateway?.stop();
    return { ok: true };
  }
  return undefined;
});
