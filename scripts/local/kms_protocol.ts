/**
 * The AWS KMS JSON 1.1 operations the local endpoint serves — `Encrypt`, `Decrypt`,
 * `GenerateDataKey`, `DescribeKey` — over a {@link KmsKeyStore}: each request body validated as
 * AWS validates it, each answer shaped as AWS shapes it, and every failure a {@link KmsFault}
 * carrying AWS's error type and HTTP status. The HTTP side is `kms_server.ts`.
 *
 * @module
 */
import { z } from "zod";
import { InvalidCiphertextError, type KmsKeyStore, toBase64, UnknownKeyError } from "./kms_keys.ts";

/** The operations served. */
export type KmsOperation = "Encrypt" | "Decrypt" | "GenerateDataKey" | "DescribeKey";

/** Every {@link KmsOperation}. */
export const kmsOperations: readonly KmsOperation[] = [
  "Encrypt",
  "Decrypt",
  "GenerateDataKey",
  "DescribeKey",
];

/** A KMS error answer: HTTP status, AWS error type (`__type`) and message. */
export class KmsFault extends Error {
  override name = "KmsFault";
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

/** What DescribeKey answers about the store's key. */
function metadata(keys: KmsKeyStore) {
  return {
    AWSAccountId: "000000000000",
    KeyId: keys.keyId,
    Arn: keys.keyArn,
    CreationDate: Date.parse(keys.createdAt) / 1000,
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
  };
}

function validated<O extends KmsOperation>(operation: O, body: unknown) {
  const parsed = schemas[operation].safeParse(body);
  if (parsed.success) return parsed.data as z.output<typeof schemas[O]>;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  throw new KmsFault(400, "ValidationException", `${where}${issue?.message ?? "invalid"}`);
}

async function answer(keys: KmsKeyStore, operation: KmsOperation, body: unknown) {
  switch (operation) {
    case "DescribeKey": {
      keys.resolve(validated(operation, body).KeyId);
      return { KeyMetadata: metadata(keys) };
    }
    case "Encrypt": {
      const input = validated(operation, body);
      keys.resolve(input.KeyId);
      const blob = await keys.encrypt(input.Plaintext, input.EncryptionContext);
      return {
        CiphertextBlob: toBase64(blob),
        KeyId: keys.keyArn,
        EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
      };
    }
    case "GenerateDataKey": {
      const input = validated(operation, body);
      keys.resolve(input.KeyId);
      const size = input.NumberOfBytes ?? (input.KeySpec === "AES_128" ? 16 : 32);
      const { plaintext, blob } = await keys.generateDataKey(size, input.EncryptionContext);
      const generated = {
        CiphertextBlob: toBase64(blob),
        Plaintext: toBase64(plaintext),
        KeyId: keys.keyArn,
      };
      plaintext.fill(0);
      return generated;
    }
    case "Decrypt": {
      const input = validated(operation, body);
      if (input.KeyId !== undefined) keys.resolve(input.KeyId);
      const plain = await keys.decrypt(input.CiphertextBlob, input.EncryptionContext);
      const opened = {
        Plaintext: toBase64(plain),
        KeyId: keys.keyArn,
        EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
      };
      plain.fill(0);
      return opened;
    }
  }
}

/**
 * Performs `operation` with the parsed JSON `body`; resolves with the answer's JSON value.
 *
 * @example
 * ```ts
 * await performOperation(keys, "DescribeKey", { KeyId: keys.keyId }); // { KeyMetadata: { ... } }
 * ```
 * @throws {KmsFault} `ValidationException`, `NotFoundException` or `InvalidCiphertextException`.
 */
export async function performOperation(
  keys: KmsKeyStore,
  operation: KmsOperation,
  body: unknown,
): Promise<unknown> {
  try {
    return await answer(keys, operation, body);
  } catch (error) {
    if (error instanceof UnknownKeyError) {
      throw new KmsFault(400, "NotFoundException", error.message);
    }
    if (error instanceof InvalidCiphertextError) {
      throw new KmsFault(400, "InvalidCiphertextException", error.message);
    }
    throw error;
  }
}
