/**
 * The project's own KMS endpoint for the local stack, tests and benchmarks: the AWS KMS JSON 1.1
 * protocol (`X-Amz-Target: TrentService.<Operation>`) over HTTP or HTTPS, so the real
 * `@aws-sdk/client-kms` talks to it unchanged. This module is the HTTP side — framing, signature
 * and content-type checks, fault injection, counters; the operations are `kms_protocol.ts` and
 * the key and its cryptography `kms_keys.ts`.
 *
 * Served by node:http(s) rather than `Deno.serve` because only the Node server reports each
 * accepted TCP connection (its `connection` event), which is what the connection-reuse tests and
 * the benchmark count. Faults are injected per request: latency, an extra delay on the first
 * request of each connection (standing in for the TCP + TLS handshake round trips a remote KMS
 * costs), and throttling/internal-error rates drawn from an injectable random source.
 *
 * @module
 */
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { type KeyStoreOptions, type KmsKeyStore, openKeyStore } from "./kms_keys.ts";
import { KmsFault, type KmsOperation, kmsOperations, performOperation } from "./kms_protocol.ts";
import { generateTlsCertificate } from "./tls_certificate.ts";

/** Fault settings that can be changed while the server runs. */
export interface KmsFaults {
  /** Delay before every answer, ms. @default 0 */
  latencyMs?: number;
  /** Extra delay on the first request of each new connection, ms. @default 0 */
  connectionLatencyMs?: number;
  /** Share of requests answered 500 `KMSInternalException`. @default 0 */
  errorRate?: number;
  /** Share of requests answered 400 `ThrottlingException`. @default 0 */
  throttleRate?: number;
}

/** Options for {@link startKmsServer}. */
export interface KmsServerOptions extends KmsFaults, KeyStoreOptions {
  /** TCP port on `hostname`; 0 picks a free one. @default 0 */
  port?: number;
  /** @default "127.0.0.1" */
  hostname?: string;
  /** Serve HTTPS with a generated certificate (needs the openssl binary). @default false */
  https?: boolean;
  /** Random source in [0, 1) for the fault rates. @default Math.random */
  random?: () => number;
  /** When set, requests must be SigV4-signed with this access key id. @default any */
  accessKeyId?: string;
  /**
   * With `https`: write the CA certificate here (for `KMS_CA_CERT_FILE`). @default a file in a
   * temporary folder removed by `stop()`
   */
  caCertFile?: string;
}

/** A running endpoint. */
export interface KmsServer {
  /** e.g. `https://127.0.0.1:43123` — the `endpoint` of a KMSClient (`KMS_ENDPOINT`). */
  readonly url: string;
  /** The key id (a UUID) — `KMS_KEY_ID`; its ARN and `alias/parker-flight-local` work too. */
  readonly keyId: string;
  readonly keyArn: string;
  /** PEM of the CA that signed the server certificate (HTTPS only). */
  readonly caCertPem?: string;
  /** A file holding {@link caCertPem} (HTTPS only) — `KMS_CA_CERT_FILE`. */
  readonly caCertFile?: string;
  /**
   * The environment a function needs to use this endpoint: `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
   * `AWS_SECRET_ACCESS_KEY`, `KMS_ENDPOINT`, `KMS_KEY_ID` and, with HTTPS, `KMS_CA_CERT_FILE`.
   */
  readonly env: Readonly<Record<string, string>>;
  /** TCP connections accepted so far. */
  connections(): number;
  /** HTTP requests received so far (every attempt, including refused ones). */
  requests(): number;
  /** Requests per operation (every attempt, including faulted ones). */
  calls(): Partial<Record<KmsOperation, number>>;
  /** Changes fault injection from now on. */
  configure(faults: KmsFaults): void;
  /** Closes the listener and every open connection. Idempotent. */
  stop(): Promise<void>;
}

function validRate(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && value <= 1)) {
    throw new RangeError(`${name} must be in 0..1, received ${value}`);
  }
}

function validDelay(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0 && value <= 60_000)) {
    throw new RangeError(`${name} must be in 0..60000 ms, received ${value}`);
  }
}

function validateFaults(faults: KmsFaults): void {
  validRate("errorRate", faults.errorRate);
  validRate("throttleRate", faults.throttleRate);
  validDelay("latencyMs", faults.latencyMs);
  validDelay("connectionLatencyMs", faults.connectionLatencyMs);
  if ((faults.errorRate ?? 0) + (faults.throttleRate ?? 0) > 1) {
    throw new RangeError("errorRate + throttleRate must not exceed 1");
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What the request handler of one endpoint works with and counts. */
interface Endpoint {
  keys: KmsKeyStore;
  faults: Required<KmsFaults>;
  random: () => number;
  accessKeyId: string | undefined;
  requests: number;
  calls: Partial<Record<KmsOperation, number>>;
  /** Connections that carried a request already (the handshake delay is charged once). */
  served: WeakSet<object>;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/x-amz-json-1.1",
    "content-length": String(Buffer.byteLength(text)),
    "x-amzn-requestid": crypto.randomUUID(),
  });
  res.end(text);
}

async function readBody(req: http.IncomingMessage): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Uint8Array).length;
    if (size > 1024 * 1024) throw new KmsFault(413, "SerializationException", "body too large");
    chunks.push(chunk as Uint8Array);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.length;
  }
  return body;
}

/** The operation a request asks for. @throws {KmsFault} for another method or target. */
function operationOf(req: http.IncomingMessage): KmsOperation {
  if (req.method !== "POST") {
    throw new KmsFault(405, "UnknownOperationException", "KMS operations are POSTed to /");
  }
  const target = String(req.headers["x-amz-target"] ?? "");
  const match = /^TrentService\.(\w+)$/.exec(target);
  const operation = kmsOperations.find((op) => op === match?.[1]);
  if (!operation) {
    throw new KmsFault(400, "UnknownOperationException", `unknown operation '${target}'`);
  }
  return operation;
}

/** Checks the request is SigV4-signed (by `accessKeyId`, when set) and JSON 1.1. */
function checkRequest(req: http.IncomingMessage, accessKeyId: string | undefined): void {
  const auth = String(req.headers["authorization"] ?? "");
  const credential = /^AWS4-HMAC-SHA256 Credential=([^/]+)\//.exec(auth);
  if (!credential) {
    throw new KmsFault(400, "MissingAuthenticationTokenException", "request is not signed");
  }
  if (accessKeyId !== undefined && credential[1] !== accessKeyId) {
    throw new KmsFault(400, "UnrecognizedClientException", "the security token is invalid");
  }
  if (!/^application\/x-amz-json-1\.1\b/.test(String(req.headers["content-type"] ?? ""))) {
    throw new KmsFault(400, "SerializationException", "expected application/x-amz-json-1.1");
  }
}

async function handle(
  endpoint: Endpoint,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const { faults } = endpoint;
  endpoint.requests++;
  const body = await readBody(req);
  const firstOnConnection = !endpoint.served.has(req.socket);
  endpoint.served.add(req.socket);
  const delay = faults.latencyMs + (firstOnConnection ? faults.connectionLatencyMs : 0);
  if (delay > 0) await sleep(delay);

  const operation = operationOf(req);
  endpoint.calls[operation] = (endpoint.calls[operation] ?? 0) + 1;
  checkRequest(req, endpoint.accessKeyId);

  const draw = endpoint.random();
  if (draw < faults.throttleRate) {
    throw new KmsFault(400, "ThrottlingException", "Rate exceeded");
  }
  if (draw < faults.throttleRate + faults.errorRate) {
    throw new KmsFault(500, "KMSInternalException", "injected internal failure");
  }

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new KmsFault(400, "SerializationException", "body is not valid JSON");
  }
  send(res, 200, await performOperation(endpoint.keys, operation, json));
}

/** The request listener of `endpoint`: every failure becomes a KMS error answer. */
function listenerOf(endpoint: Endpoint) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(endpoint, req, res).catch((error) => {
      if (res.headersSent) {
        res.destroy();
      } else if (error instanceof KmsFault) {
        send(res, error.status, { __type: error.type, message: error.message });
      } else {
        send(res, 500, { __type: "KMSInternalException", message: "internal error" });
      }
    });
  };
}

/** An HTTPS server with a generated certificate, and where its CA certificate was written. */
async function httpsServer(
  hostname: string,
  caCertFile: string | undefined,
  listener: http.RequestListener,
) {
  const tls = await generateTlsCertificate({
    dnsNames: ["localhost"],
    ipAddresses: hostname === "localhost" ? ["127.0.0.1"] : [...new Set(["127.0.0.1", hostname])],
  });
  let tempDir: string | undefined;
  let file: string;
  if (caCertFile) {
    file = caCertFile;
    const dir = file.replace(/\/[^/]*$/, "");
    if (dir && dir !== file) await Deno.mkdir(dir, { recursive: true });
  } else {
    tempDir = await Deno.makeTempDir({ prefix: "pf-kms-ca-" });
    file = `${tempDir}/ca.pem`;
  }
  await Deno.writeTextFile(file, tls.caPem);
  const server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, listener);
  return { server, caCertPem: tls.caPem, caCertFile: file, tempDir };
}

/** Listens on `port` of `hostname`; resolves with the bound port. */
async function listen(server: http.Server, port: number, hostname: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/**
 * Starts the endpoint and resolves once it listens.
 *
 * @example
 * ```ts
 * const kms = await startKmsServer({ https: true, latencyMs: 20 });
 * const client = new KMSClient({ endpoint: kms.url, region: "us-east-1", ... });
 * await kms.stop();
 * ```
 * @throws {RangeError} for a rate outside 0..1 or a negative delay.
 * @throws {TlsCertificateError} when `https` is set and openssl is missing.
 */
export async function startKmsServer(options: KmsServerOptions = {}): Promise<KmsServer> {
  const { port = 0, hostname = "127.0.0.1", region = "us-east-1", accessKeyId } = options;
  validateFaults(options);
  const endpoint: Endpoint = {
    keys: await openKeyStore({ region, ...(options.keyFile ? { keyFile: options.keyFile } : {}) }),
    faults: {
      latencyMs: options.latencyMs ?? 0,
      connectionLatencyMs: options.connectionLatencyMs ?? 0,
      errorRate: options.errorRate ?? 0,
      throttleRate: options.throttleRate ?? 0,
    },
    random: options.random ?? Math.random,
    accessKeyId,
    requests: 0,
    calls: {},
    served: new WeakSet(),
  };
  const listener = listenerOf(endpoint);
  const tls = options.https ? await httpsServer(hostname, options.caCertFile, listener) : undefined;
  const server = tls?.server ?? http.createServer(listener);
  server.keepAliveTimeout = 60_000;
  let connections = 0;
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  const bound = await listen(server, port, hostname);
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const url = `${tls ? "https" : "http"}://${host}:${bound}`;
  const { keyId, keyArn } = endpoint.keys;

  let stopping: Promise<void> | undefined;
  return {
    url,
    keyId,
    keyArn,
    caCertPem: tls?.caCertPem,
    caCertFile: tls?.caCertFile,
    env: {
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: accessKeyId ?? "local-access-key",
      AWS_SECRET_ACCESS_KEY: "local-secret-key",
      KMS_ENDPOINT: url,
      KMS_KEY_ID: keyId,
      ...(tls ? { KMS_CA_CERT_FILE: tls.caCertFile } : {}),
    },
    connections: () => connections,
    requests: () => endpoint.requests,
    calls: () => ({ ...endpoint.calls }),
    configure(next) {
      validateFaults({ ...endpoint.faults, ...next });
      const given = Object.entries(next).filter(([, value]) => value !== undefined);
      Object.assign(endpoint.faults, Object.fromEntries(given));
    },
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }).then(async () => {
        if (tls?.tempDir) await Deno.remove(tls.tempDir, { recursive: true }).catch(() => {});
      });
      return stopping;
    },
  };
}
