/**
 * Bearer-secret check for scrape endpoints (the header itself is read by `_shared/bearer.ts`).
 *
 * @module
 */

const encoder = new TextEncoder();

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/**
 * Whether `presented` equals `secret`, in time that depends on neither: both are hashed first
 * (equal lengths, so no early exit on length) and the digests compared without branching.
 */
export async function secretsEqual(presented: string, secret: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(presented), sha256(secret)]);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
