/**
 * What can go wrong with KMS-backed encryption, in three kinds a caller treats differently, and
 * the one place SDK errors are sorted into them.
 *
 * Messages name the failure class (the SDK error's name, an HTTP status), never a payload, a
 * data key or an SDK message body.
 *
 * @module
 */

/** Base of every KMS-related error. */
export class KmsError extends Error {
  override name = "KmsError";
}

/**
 * KMS could not be reached or kept failing after the SDK's retries (throttling, 5xx, timeout,
 * refused connection): a dependency outage, answered 503.
 */
export class KmsUnavailableError extends KmsError {
  override name = "KmsUnavailableError";
}

/**
 * KMS refused the request for a reason retrying will not fix (unknown or disabled key, access
 * denied, invalid credentials): a deployment problem.
 */
export class KmsRequestError extends KmsError {
  override name = "KmsRequestError";
}

/**
 * A ciphertext failed authentication: tampered bytes, a different encryption context, a data key
 * of another key, or a malformed envelope. Never retried.
 */
export class DecryptionError extends KmsError {
  override name = "DecryptionError";
}

const integrityErrors = new Set(["InvalidCiphertextException", "IncorrectKeyException"]);
const outageErrors = new Set([
  "ThrottlingException",
  "KMSInternalException",
  "DependencyTimeoutException",
  "KeyUnavailableException",
  "LimitExceededException",
  "ServiceUnavailableException",
  "TimeoutError",
  "AbortError",
  "RequestTimeout",
]);
const networkCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * Sorts an error thrown by `KMSClient.send()` into {@link DecryptionError},
 * {@link KmsUnavailableError} or {@link KmsRequestError}, keeping the original as `cause`.
 *
 * @param operation The KMS operation, for the message (e.g. `GenerateDataKey`).
 */
export function classifyKmsError(operation: string, error: unknown): KmsError {
  if (error instanceof KmsError) return error;
  const e = error as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number; attempts?: number };
  } | undefined;
  const name = typeof e?.name === "string" ? e.name : "Error";
  const status = e?.$metadata?.httpStatusCode;
  const attempts = e?.$metadata?.attempts;
  const detail = `${name}${status ? ` (HTTP ${status})` : ""}${
    attempts ? ` after ${attempts} attempt${attempts === 1 ? "" : "s"}` : ""
  }`;
  if (integrityErrors.has(name)) {
    return new DecryptionError(`KMS ${operation} rejected the ciphertext: ${detail}`, {
      cause: error,
    });
  }
  const code = typeof e?.code === "string" ? e.code : undefined;
  const unavailable = outageErrors.has(name) || (status !== undefined && status >= 500) ||
    (code !== undefined && networkCodes.has(code)) || status === undefined;
  if (unavailable) {
    return new KmsUnavailableError(
      `KMS ${operation} unavailable: ${detail}${code ? ` ${code}` : ""}`,
      {
        cause: error,
      },
    );
  }
  return new KmsRequestError(`KMS ${operation} refused: ${detail}`, { cause: error });
}
