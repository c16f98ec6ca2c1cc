/**
 * Opens a page in headless Chromium and reports what a reader would see: how many charts the
 * page says it drew, how many pixels each canvas has painted, and every console error or
 * uncaught exception. Talks the Chrome DevTools Protocol over Deno's WebSocket, so no browser
 * automation package is needed.
 *
 * @module
 */
import { readLines } from "../local/lines.ts";

/** Flags for a throw-away headless browser that phones nowhere. */
export const chromiumFlags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--no-default-browser-check",
] as const;

/** Chromium is not installed where expected. */
export class ChromiumMissingError extends Error {
  override name = "ChromiumMissingError";
}

/** One canvas of the page. */
export interface CanvasCheck {
  id: string;
  width: number;
  height: number;
  /** Pixels with any opacity: 0 means nothing was drawn. */
  paintedPixels: number;
}

/** What {@link inspectPage} saw. */
export interface PageCheck {
  /** `data-charts-rendered` of <body>, or null when the page never set it. */
  chartsRendered: number | null;
  canvases: CanvasCheck[];
  /** console.error/assert messages, uncaught exceptions and browser log errors. */
  errors: string[];
}

/** Options of {@link inspectPage}. */
export interface InspectOptions {
  /** @default $CHROMIUM, else /usr/bin/chromium */
  chromium?: string;
  /** Give up after this long. @default 30000 */
  timeoutMs?: number;
}

type Pending = { resolve: (value: Record<string, unknown>) => void; reject: (e: Error) => void };

/** A minimal CDP client: commands with ids, events by method. */
class Cdp {
  #socket: WebSocket;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #listeners: ((method: string, params: Record<string, unknown>, session?: string) => void)[] = [];

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data));
      if (typeof message.id === "number") {
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.error) pending?.reject(new Error(`CDP: ${message.error.message}`));
        else pending?.resolve(message.result ?? {});
      } else if (message.method) {
        for (const listener of this.#listeners) {
          listener(message.method, message.params ?? {}, message.sessionId);
        }
      }
    };
    socket.onclose = () => {
      for (const p of this.#pending.values()) p.reject(new Error("CDP: connection closed"));
      this.#pending.clear();
    };
  }

  static connect(url: string): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.onopen = () => resolve(new Cdp(socket));
      socket.onerror = () => reject(new Error(`CDP: cannot connect to ${url}`));
    });
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string) {
    const id = this.#nextId++;
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.send(JSON.stringify({ id, method, params, sessionId }));
    });
  }

  on(listener: (method: string, params: Record<string, unknown>, session?: string) => void) {
    this.#listeners.push(listener);
  }

  close(): Promise<void> {
    if (this.#socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.#socket.addEventListener("close", () => resolve(), { once: true });
      this.#socket.close();
    });
  }
}

function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const canvasProbe = `JSON.stringify([...document.querySelectorAll("canvas")].map((c) => {
  const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
  return { id: c.id, width: c.width, height: c.height, paintedPixels: painted };
}))`;

/**
 * Collects what a reader would see go wrong on the page (console errors and assertions, uncaught
 * exceptions, error log entries) as lines; `loadEvent` resolves when the page has loaded.
 */
function watchPage(cdp: Cdp): { errors: string[]; loadEvent: Promise<void> } {
  const errors: string[] = [];
  let loaded: () => void = () => {};
  const loadEvent = new Promise<void>((resolve) => (loaded = resolve));
  cdp.on((method, params) => {
    if (
      method === "Runtime.consoleAPICalled" &&
      (params.type === "error" || params.type === "assert")
    ) {
      const args = (params.args as { value?: unknown; description?: string }[] | undefined) ?? [];
      errors.push(
        `console.${params.type}: ${args.map((a) => a.description ?? String(a.value)).join(" ")}`,
      );
    } else if (method === "Runtime.exceptionThrown") {
      const details = params.exceptionDetails as {
        text?: string;
        exception?: { description?: string };
      };
      errors.push(`exception: ${details.exception?.description ?? details.text ?? "unknown"}`);
    } else if (method === "Log.entryAdded") {
      const entry = params.entry as { level?: string; text?: string; url?: string };
      if (entry.level === "error") {
        errors.push(`log: ${entry.text ?? ""} ${entry.url ?? ""}`.trim());
      }
    } else if (method === "Page.loadEventFired") {
      loaded();
    }
  });
  return { errors, loadEvent };
}

/**
 * Loads `url` (e.g. `file:///…/report.html`) in a fresh headless Chromium and inspects it.
 *
 * @throws {ChromiumMissingError} when the browser binary is absent.
 * @throws {Error} when the browser does not start or the page does not load in time.
 */
export async function inspectPage(url: string, options: InspectOptions = {}): Promise<PageCheck> {
  const chromium = options.chromium ?? Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
  const timeoutMs = options.timeoutMs ?? 30_000;
  try {
    await Deno.stat(chromium);
  } catch {
    throw new ChromiumMissingError(
      `Chromium not found at ${chromium}: install it (apt-get install -y chromium) or set CHROMIUM`,
    );
  }
  const profile = await Deno.makeTempDir({ prefix: "pf-chromium-" });
  const child = new Deno.Command(chromium, {
    args: [
      ...chromiumFlags,
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderrLines: string[] = [];
  let announce: (url: string) => void = () => {};
  const announced = new Promise<string>((resolve) => (announce = resolve));
  const drained = readLines(child.stderr, (line) => {
    if (stderrLines.length < 200) stderrLines.push(line);
    const match = /DevTools listening on (ws:\/\/\S+)/.exec(line);
    if (match) announce(match[1]!);
  });
  let cdp: Cdp | undefined;
  try {
    const wsUrl = await deadline(
      Promise.race([
        announced,
        child.status.then((s) => {
          throw new Error(`Chromium exited with ${s.code}:\n${stderrLines.join("\n")}`);
        }),
      ]),
      timeoutMs,
      "waiting for Chromium's DevTools endpoint",
    );
    cdp = await Cdp.connect(wsUrl);
    const { errors, loadEvent } = watchPage(cdp);
    const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true });
    const session = sessionId as string;
    await Promise.all(
      ["Runtime.enable", "Log.enable", "Page.enable"].map((m) => cdp!.send(m, {}, session)),
    );
    await cdp.send("Page.navigate", { url }, session);
    await deadline(loadEvent, timeoutMs, `loading ${url}`);
    const evaluate = async (expression: string) => {
      const result = await cdp!.send(
        "Runtime.evaluate",
        { expression, returnByValue: true },
        session,
      );
      return (result.result as { value?: unknown }).value;
    };
    // The charts are drawn synchronously during load; poll briefly in case a frame is pending.
    let rendered: unknown = null;
    for (let i = 0; i < 50 && rendered === null; i++) {
      rendered = await evaluate(`document.body.getAttribute("data-charts-rendered")`);
      if (rendered === null) await new Promise((r) => setTimeout(r, 100));
    }
    const canvases = JSON.parse(String(await evaluate(canvasProbe))) as CanvasCheck[];
    await cdp.send("Browser.close").catch(() => {});
    return { chartsRendered: rendered === null ? null : Number(rendered), canvases, errors };
  } finally {
    await cdp?.close().catch(() => {});
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited after Browser.close
    }
    await child.status;
    await drained.catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}
