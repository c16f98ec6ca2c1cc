/**
 * The project's own KMS endpoint for the local stack, tests and benchmarks: the AWS KMS JSON 1.1
 * protocol (`X-Amz-Target: TrentService.<Operation>`) for `Encrypt`, `Decrypt`,
 * `GenerateDataKey` and `DescribeKey`, so the real `@aws-sdk/client-kms` talks to it unchanged
 * over HTTP or HTTPS.
 *
 * Cryptography is real: one 256-bit AES-GCM key (local key material) encrypts data keys and
 * payloads. A ciphertext blob embeds the key id and is bound to its encryption context as AAD, so
 * a blob presented with any other context is an `InvalidCiphertextException`, as in AWS. The blob
 * layout is private to this server (AWS's is opaque too):
 *
 * ```
 * 0x01 | key id length (1 byte) | key id (UTF-8) | IV (12 bytes) | AES-GCM ciphertext + tag (16)
 * AAD = the bytes before the IV ‖ 0x00 ‖ canonical JSON of the encryption context (sorted keys)
 * ```
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
import { z } from "zod";
import { generateTlsCertificate } from "./tls_certificate.ts";

/** The operations served. */
export type KmsOperation = "Encrypt" | "Decrypt" | "GenerateDataKey" | "DescribeKey";

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
export interface KmsServerOptions extends KmsFaults {
  /** TCP port on `hostname`; 0 picks a free one. @default 0 */
  port?: number;
  /** @default "127.0.0.1" */
  hostname?: string;
  /** Serve HTTPS with a generated certificate (needs the openssl binary). @default false */
  https?: boolean;
  /** Random source in [0, 1) for the fault rates. @default Math.random */
  random?: () => number;
  /** Region in the key ARN. @default "us-east-1" */
  region?: string;
  /**
   * Keep the key id and key material in this JSON file (created with mode 0600 when missing), so
   * data encrypted in one run decrypts in the next. @default a fresh key per start
   */
  keyFile?: string;
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

const operations = ["Encrypt", "Decrypt", "GenerateDataKey", "DescribeKey"] as const;
const aliasName = "alias/parker-flight-local";
const blobVersion = 1;
const ivBytes = 12;

class KmsFault extends Error {
  constructor(readonly status: number, readonly type: string, message: string) {
    super(message);
  }
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, "expected base64").transform((s) =>
  Uint8Array.from(atob(s), (c) => c.charCodeAt(0))
);
const context = z.record(z.string().min(1).max(256), z.string().max(4096)).optional();
const keyIdField = z.string().min(1).max(2048);
const schemas = {
  Encrypt: z.object({
    KeyId: keyIdField,
    Plaintext: base64.refine((b) => b.length >= 1 && b.length <= 4096, "1..4096 bytes"),
    EncryptionContext: context,
  }),
  Decrypt: z.object({
    CiphertextBlob: base64.refine((b) => b.length >= 1 && b.length <= 6144, "1..6144 bytes"),
    EncryptionContext: context,
    KeyId: keyIdField.optional(),
  }),
  GenerateDataKey: z.object({
    KeyId: keyIdField,
    KeySpec: z.enum(["AES_256", "AES_128"]).optional(),
    NumberOfBytes: z.number().int().min(1).max(1024).optional(),
    EncryptionContext: context,
  }).refine((b) => (b.KeySpec === undefined) !== (b.NumberOfBytes === undefined), {
    message: "exactly one of KeySpec and NumberOfBytes is required",
  }),
  DescribeKey: z.object({ KeyId: keyIdField }),
};

function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function canonicalContext(ctx: Record<string, string> | undefined): string {
  const entries = Object.entries(ctx ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(entries));
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

interface KeyRecord {
  keyId: string;
  material: string;
  createdAt: string;
}

async function loadKey(keyFile: string | undefined): Promise<KeyRecord> {
  if (keyFile) {
    try {
      const parsed = z.object({
        keyId: z.uuid(),
        material: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
        createdAt: z.string(),
      }).parse(JSON.parse(await Deno.readTextFile(keyFile)));
      return parsed;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw new Error(
          `KMS key file ${keyFile} is unreadable or malformed; delete it to start over`,
        );
      }
    }
  }
  const record: KeyRecord = {
    keyId: crypto.randomUUID(),
    material: toBase64(crypto.getRandomValues(new Uint8Array(32))),
    createdAt: new Date().toISOString(),
  };
  if (keyFile) {
    const dir = keyFile.replace(/\/[^/]*$/, "");
    if (dir && dir !== keyFile) await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(keyFile, JSON.stringify(record, null, 2) + "\n", { mode: 0o600 });
  }
  return record;
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
  const {
    port = 0,
    hostname = "127.0.0.1",
    https: useHttps = false,
    random = Math.random,
    region = "us-east-1",
    keyFile,
    accessKeyId,
  } = options;
  validateFaults(options);
  const faults: Required<KmsFaults> = {
    latencyMs: options.latencyMs ?? 0,
    connectionLatencyMs: options.connectionLatencyMs ?? 0,
    errorRate: options.errorRate ?? 0,
    throttleRate: options.throttleRate ?? 0,
  };

  const key = await loadKey(keyFile);
  const keyArn = `arn:aws:kms:${region}:000000000000:key/${key.keyId}`;
  const aesKey = await crypto.subtle.importKey(
    "raw",
    Uint8Array.from(atob(key.material), (c) => c.charCodeAt(0)),
    "AES-GCM",
    false,
    ["encrypt", "decrypt"],
  );
  const keyIdBytes = new TextEncoder().encode(key.keyId);

  function resolveKey(keyId: string): void {
    if (keyId === key.keyId || keyId === keyArn || keyId === aliasName) return;
    if (keyId === `arn:aws:kms:${region}:000000000000:${aliasName}`) return;
    throw new KmsFault(400, "NotFoundException", `Key '${keyId}' does not exist`);
  }

  async function seal(plaintext: Uint8Array, ctx?: Record<string, string>): Promise<Uint8Array> {
    const header = concat(Uint8Array.of(blobVersion, keyIdBytes.length), keyIdBytes);
    const iv = crypto.getRandomValues(new Uint8Array(ivBytes));
    const aad = concat(header, Uint8Array.of(0), new TextEncoder().encode(canonicalContext(ctx)));
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: aad },
      aesKey,
      plaintext as Uint8Array<ArrayBuffer>,
    );
    return concat(header, iv, new Uint8Array(sealed));
  }

  async function open(blob: Uint8Array, ctx?: Record<string, string>): Promise<Uint8Array> {
    const invalid = () =>
      new KmsFault(400, "InvalidCiphertextException", "The ciphertext is invalid for this key");
    if (blob.length < 2 || blob[0] !== blobVersion) throw invalid();
    const idLength = blob[1]!;
    const headerEnd = 2 + idLength;
    if (blob.length < headerEnd + ivBytes + 16) throw invalid();
    const blobKeyId = new TextDecoder().decode(blob.subarray(2, headerEnd));
    if (blobKeyId !== key.keyId) throw invalid();
    const aad = concat(
      blob.subarray(0, headerEnd),
      Uint8Array.of(0),
      new TextEncoder().encode(canonicalContext(ctx)),
    );
    try {
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: blob.slice(headerEnd, headerEnd + ivBytes), additionalData: aad },
        aesKey,
        blob.slice(headerEnd + ivBytes),
      );
      return new Uint8Array(plain);
    } catch {
      throw invalid();
    }
  }

  const metadata = () => ({
    AWSAccountId: "000000000000",
    KeyId: key.keyId,
    Arn: keyArn,
    CreationDate: Date.parse(key.createdAt) / 1000,
    Enabled: true,
    Description: "Parker Flight local KMS key",
    KeyUsage: "ENCRYPT_DECRYPT",
    KeyState: "Enabled",
    Origin: "AWS_KMS",
    KeyManager: "CUSTOMER",
    CustomerMasterKeySpec: "SYMMETRIC_DEFAULT",
    KeySpec: "SYMMETRIC_DEFAULT",
    EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
    MultiRegion: false,
  });

  async function perform(operation: KmsOperation, body: unknown): Promise<unknown> {
    const parsed = schemas[operation].safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
      throw new KmsFault(400, "ValidationException", `${where}${issue?.message ?? "invalid"}`);
    }
    switch (operation) {
      case "DescribeKey": {
        const input = parsed.data as z.output<typeof schemas.DescribeKey>;
        resolveKey(input.KeyId);
        return { KeyMetadata: metadata() };
      }
      case "Encrypt": {
        const input = parsed.data as z.output<typeof schemas.Encrypt>;
        resolveKey(input.KeyId);
        const blob = await seal(input.Plaintext, input.EncryptionContext);
        return {
          CiphertextBlob: toBase64(blob),
          KeyId: keyArn,
          EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
        };
      }
      case "GenerateDataKey": {
        const input = parsed.data as z.output<typeof schemas.GenerateDataKey>;
        resolveKey(input.KeyId);
        const size = input.NumberOfBytes ?? (input.KeySpec === "AES_128" ? 16 : 32);
        const dataKey = crypto.getRandomValues(new Uint8Array(size));
        const blob = await seal(dataKey, input.EncryptionContext);
        const answer = {
          CiphertextBlob: toBase64(blob),
          Plaintext: toBase64(dataKey),
          KeyId: keyArn,
        };
        dataKey.fill(0);
        return answer;
      }
      case "Decrypt": {
        const input = parsed.data as z.output<typeof schemas.Decrypt>;
        if (input.KeyId !== undefined) {
          resolveKey(input.KeyId);
        }
        const plain = await open(input.CiphertextBlob, input.EncryptionContext);
        const answer = {
          Plaintext: toBase64(plain),
          KeyId: keyArn,
          EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
        };
        plain.fill(0);
        return answer;
      }
    }
  }

  let connections = 0;
  let requests = 0;
  const calls: Partial<Record<KmsOperation, number>> = {};
  const sockets = new Set<Socket>();
  const served = new WeakSet<object>();

  function send(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/x-amz-json-1.1",
      "content-length": String(Buffer.byteLength(text)),
      "x-amzn-requestid": crypto.randomUUID(),
    });
    res.end(text);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    requests++;
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Uint8Array).length;
      if (size > 1024 * 1024) throw new KmsFault(413, "SerializationException", "body too large");
      chunks.push(chunk as Uint8Array);
    }
    const firstOnConnection = !served.has(req.socket);
    served.add(req.socket);
    const delay = faults.latencyMs + (firstOnConnection ? faults.connectionLatencyMs : 0);
    if (delay > 0) await sleep(delay);

    if (req.method !== "POST") {
      throw new KmsFault(405, "UnknownOperationException", "KMS operations are POSTed to /");
    }
    const target = String(req.headers["x-amz-target"] ?? "");
    const match = /^TrentService\.(\w+)$/.exec(target);
    const operation = operations.find((op) => op === match?.[1]);
    if (!operation) {
      throw new KmsFault(400, "UnknownOperationException", `unknown operation '${target}'`);
    }
    calls[operation] = (calls[operation] ?? 0) + 1;

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

    const draw = random();
    if (draw < faults.throttleRate) {
      throw new KmsFault(400, "ThrottlingException", "Rate exceeded");
    }
    if (draw < faults.throttleRate + faults.errorRate) {
      throw new KmsFault(500, "KMSInternalException", "injected internal failure");
    }

    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(concat(...chunks)));
    } catch {
      throw new KmsFault(400, "SerializationException", "body is not valid JSON");
    }
    send(res, 200, await perform(operation, body));
  }

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((error) => {
      if (res.headersSent) {
        res.destroy();
      } else if (error instanceof KmsFault) {
        send(res, error.status, { __type: error.type, message: error.message });
      } else {
        send(res, 500, { __type: "KMSInternalException", message: "internal error" });
      }
    });
  };

  let caCertPem: string | undefined;
  let caCertFile: string | undefined;
  let tempDir: string | undefined;
  let server: http.Server;
  if (useHttps) {
    const tls = await generateTlsCertificate({
      dnsNames: ["localhost"],
      ipAddresses: hostname === "localhost" ? ["127.0.0.1"] : [...new Set(["127.0.0.1", hostname])],
    });
    caCertPem = tls.caPem;
    if (options.caCertFile) {
      caCertFile = options.caCertFile;
      const dir = caCertFile.replace(/\/[^/]*$/, "");
      if (dir && dir !== caCertFile) await Deno.mkdir(dir, { recursive: true });
    } else {
      tempDir = await Deno.makeTempDir({ prefix: "pf-kms-ca-" });
      caCertFile = `${tempDir}/ca.pem`;
    }
    await Deno.writeTextFile(caCertFile, caCertPem);
    server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, listener);
  } else {
    server = http.createServer(listener);
  }
  server.keepAliveTimeout = 60_000;
  server.on("connection", (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;

  const url = `${useHttps ? "https" : "http"}://${host}:${bound}`;
  const env: Record<string, string> = {
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: accessKeyId ?? "local-access-key",
    AWS_SECRET_ACCESS_KEY: "local-secret-key",
    KMS_ENDPOINT: url,
    KMS_KEY_ID: key.keyId,
    ...(caCertFile ? { KMS_CA_CERT_FILE: caCertFile } : {}),
  };

  let stopping: Promise<void> | undefined;
  return {
    url,
    keyId: key.keyId,
    keyArn,
    caCertPem,
    caCertFile,
    env,
    connections: () => connections,
    requests: () => requests,
    calls: () => ({ ...calls }),
    configure(next) {
      validateFaults({ ...faults, ...next });
      Object.assign(
        faults,
        Object.fromEntries(
          Object.entries(next).filter(([, value]) => value !== undefined),
        ),
      );
    },
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }).then(async () => {
        if (tempDir) await Deno.remove(tempDir, { recursive: true }).catch(() => {});
      });
      return stopping;
    },
  };
}
