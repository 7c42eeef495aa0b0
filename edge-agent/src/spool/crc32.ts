/**
 * CRC-32 (ISO-HDLC: reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF), the
 * checksum of zip, gzip and PNG, byte-for-byte equal to `zlib.crc32`. Computed here from a table
 * of 256 entries because `zlib.crc32` needs Node 20.15, and the agent runs on Node 20.11 (the
 * newest 32-bit ARM build published on npm).
 */
const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c >>> 0;
}

/** The CRC-32 of `bytes`, as an unsigned 32-bit integer; `previous` continues an earlier one. */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let crc = ~previous;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
