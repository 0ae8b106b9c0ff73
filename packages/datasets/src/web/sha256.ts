/** Lower-case hex SHA-256 of `bytes`, with the Web Crypto API (browsers, Node ≥ 19). */
export async function sha256Web(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
