/**
 * How `-e local` finds the local stack: the handle `npm start` passes in-process, else the
 * `.local/stack.json` a running `npm start` writes, else (for a rollout) a stack started for the
 * duration of the command.
 *
 * @module
 */
import { z } from "zod";
import { localStateDir } from "./paths.ts";

/** What the rollout needs from a running local stack. */
export interface LocalStack {
  /** Gateway base URL, e.g. http://127.0.0.1:54321 (functions at `${url}/functions/v1/<name>`). */
  url: string;
  anonKey: string;
  serviceRoleKey: string;
  /** Direct URL of the stack's Postgres. */
  dbUrl: string;
  /** Stops the stack when this command started it. */
  stop?: () => Promise<void>;
}

/** Where a running `npm start` describes its stack. */
export const stackFilePath = `${localStateDir}/stack.json`;

const stackFileSchema = z.object({
  url: z.string().regex(/^https?:\/\/\S+$/),
  anonKey: z.string().min(20),
  serviceRoleKey: z.string().min(20),
  dbUrl: z.string().regex(/^postgres(ql)?:\/\/\S+$/),
  pid: z.number().int().positive().optional(),
}).passthrough();

function processAlive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch (error) {
    // EPERM means it exists but belongs to someone else: still alive.
    return error instanceof Deno.errors.PermissionDenied;
  }
}

/**
 * The stack described by `.local/stack.json`, or `undefined` when there is no file, it is
 * malformed, or the process that wrote it is gone.
 */
export async function readRunningStack(
  path: string = stackFilePath,
): Promise<LocalStack | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = stackFileSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  if (parsed.data.pid !== undefined && !processAlive(parsed.data.pid)) return undefined;
  const { url, anonKey, serviceRoleKey, dbUrl } = parsed.data;
  return { url: url.replace(/\/+$/, ""), anonKey, serviceRoleKey, dbUrl };
}
