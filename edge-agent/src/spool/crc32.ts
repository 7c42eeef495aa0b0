/**
 * CRC-32 (IEEE 802.3, the polynomial zlib and gzip use: reflected 0xEDB88320), from a 256-entry
 * table. zlib.crc32 would do, but the agent runs on Node 20.11, which lacks it (added in 20.15).
 */
const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** The CRC-32 of `bytes`, as an unsigned 32-bit integer (equal to zlib.crc32(bytes)). */
export function crc32(bytes: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
