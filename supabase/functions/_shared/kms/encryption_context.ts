/**
 * Encryption context: non-secret name/value pairs that say what a ciphertext is for. An envelope
 * has two sets of them (see `EnvelopeScope` in `envelope.ts`): the KMS context (which purpose,
 * which environment), sent to KMS with every data-key operation — KMS binds the encrypted data key
 * to it and records it in its audit log — and the binding (which record, whose), bound to the
 * payload only as AES-GCM additional authenticated data, so a ciphertext moved to another record
 * fails to decrypt. Both follow the rules and the canonical form here.
 *
 * @module
 */

/** Context pairs; values are strings as in AWS KMS. */
export type EncryptionContext = Readonly<Record<string, string>>;

const keyPattern = /^[a-z][a-z0-9_]{0,63}$/;
const maxValueLength = 256;

/**
 * Checks `context` and returns it unchanged: 1..10 pairs, keys in snake_case (not starting with
 * `aws`, which AWS reserves), values 1..256 characters.
 *
 * @throws {TypeError} naming the offending key (never a value).
 */
export function assertEncryptionContext(context: EncryptionContext): EncryptionContext {
  const keys = Object.keys(context);
  if (keys.length < 1 || keys.length > 10) {
    throw new TypeError(`encryption context needs 1..10 pairs, received ${keys.length}`);
  }
  for (const key of keys) {
    if (!keyPattern.test(key) || key.startsWith("aws")) {
      throw new TypeError(
        `encryption context key '${key}' must be snake_case and not start with aws`,
      );
    }
    const value = context[key];
    if (typeof value !== "string" || value.length < 1 || value.length > maxValueLength) {
      throw new TypeError(
        `encryption context value of '${key}' must be 1..${maxValueLength} characters`,
      );
    }
  }
  return context;
}

/**
 * The canonical form bound as AAD: JSON of the pairs with keys sorted by code unit, no spaces.
 * Two contexts with the same pairs in any order give the same bytes.
 *
 * @example
 * ```ts
 * canonicalContext({ user_id: "u1", purpose: "card" }); // '{"purpose":"card","user_id":"u1"}'
 * ```
 * @throws {TypeError} when the context is invalid (see {@link assertEncryptionContext}).
 */
export function canonicalContext(context: EncryptionContext): string {
  assertEncryptionContext(context);
  const sorted = Object.keys(context).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(sorted.map((key) => [key, context[key]])));
}
