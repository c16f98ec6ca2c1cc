/**
 * A throw-away certificate authority and a `localhost` server certificate it signed, for local
 * HTTPS endpoints (the KMS endpoint) whose clients trust that CA explicitly instead of turning
 * certificate verification off.
 *
 * Made with the `openssl` binary (present on Debian, macOS and most CI images): two ECDSA P-256
 * keys, a CA certificate with `CA:TRUE`, and a leaf with `CA:FALSE` and subjectAltName
 * `DNS:localhost, IP:127.0.0.1` — rustls, which Deno's TLS uses, rejects a self-signed CA used as
 * its own end-entity certificate, so the two are kept apart.
 *
 * @module
 */

/** PEM texts of a generated certificate chain. */
export interface TlsCertificate {
  /** The CA certificate a client passes as `ca` to trust {@link certPem}. */
  caPem: string;
  /** The server certificate (leaf), signed by the CA. */
  certPem: string;
  /** The server's private key (PKCS#8). */
  keyPem: string;
}

/** Options for {@link generateTlsCertificate}. */
export interface TlsCertificateOptions {
  /** DNS names for subjectAltName. @default ["localhost"] */
  dnsNames?: string[];
  /** IP addresses for subjectAltName. @default ["127.0.0.1"] */
  ipAddresses?: string[];
  /** Validity in days. @default 30 */
  days?: number;
  /** The openssl binary. @default "openssl" */
  openssl?: string;
}

/** Thrown when the certificate cannot be made (openssl missing or failing). */
export class TlsCertificateError extends Error {
  override name = "TlsCertificateError";
}

async function openssl(binary: string, args: string[], cwd: string): Promise<void> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(binary, { args, cwd, stdout: "piped", stderr: "piped" })
      .output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new TlsCertificateError(
        `the '${binary}' binary is needed to generate a local TLS certificate but was not found ` +
          "on PATH (Debian: apt-get install openssl); or start the endpoint without HTTPS",
      );
    }
    throw error;
  }
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-5).join("\n");
    throw new TlsCertificateError(`openssl ${args[0]} failed (exit ${output.code}): ${stderr}`);
  }
}

/**
 * Generates a CA and a server certificate signed by it.
 *
 * @example
 * ```ts
 * const { caPem, certPem, keyPem } = await generateTlsCertificate();
 * https.createServer({ cert: certPem, key: keyPem }, handler);
 * new https.Agent({ ca: caPem, keepAlive: true });
 * ```
 * @throws {TlsCertificateError} when openssl is missing or fails.
 */
export async function generateTlsCertificate(
  options: TlsCertificateOptions = {},
): Promise<TlsCertificate> {
  const {
    dnsNames = ["localhost"],
    ipAddresses = ["127.0.0.1"],
    days = 30,
    openssl: binary = "openssl",
  } = options;
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new RangeError(`days must be an integer in 1..3650, received ${days}`);
  }
  if (dnsNames.length + ipAddresses.length === 0) {
    throw new RangeError("at least one DNS name or IP address is needed for subjectAltName");
  }
  const dir = await Deno.makeTempDir({ prefix: "pf-tls-" });
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    await openssl(binary, [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      String(days),
      "-subj",
      "/CN=Parker Flight local CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE,pathlen:0",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ], dir);
    await openssl(binary, [
      "req",
      ...ec,
      "-keyout",
      "server.key",
      "-out",
      "server.csr",
      "-subj",
      `/CN=${dnsNames[0] ?? ipAddresses[0]}`,
    ], dir);
    const altNames = [
      ...dnsNames.map((name) => `DNS:${name}`),
      ...ipAddresses.map((ip) => `IP:${ip}`),
    ];
    await Deno.writeTextFile(
      `${dir}/server.ext`,
      [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature",
        "extendedKeyUsage=serverAuth",
        `subjectAltName=${altNames.join(",")}`,
        "",
      ].join("\n"),
    );
    const serial = `0x${
      [...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16).padStart(2, "0"))
        .join("")
    }`;
    await openssl(binary, [
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-set_serial",
      serial,
      "-days",
      String(days),
      "-extfile",
      "server.ext",
      "-out",
      "server.pem",
    ], dir);
    // openssl writes EC keys as PKCS#8 ("BEGIN PRIVATE KEY") in 3.x and SEC1 in older versions;
    // node:tls reads both.
    return {
      caPem: await Deno.readTextFile(`${dir}/ca.pem`),
      certPem: await Deno.readTextFile(`${dir}/server.pem`),
      keyPem: await Deno.readTextFile(`${dir}/server.key`),
    };
  } finally {
    // The CA key is never kept: nothing can be signed with this CA after this call.
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
