import { isolateDeps } from "./deps.ts";
import { handler } from "./handler.ts";

const deps = isolateDeps();

Deno.serve((req) => handler(req, deps));
