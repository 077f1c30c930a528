/**
 * Redis Cluster hash slots: CRC16-XMODEM of the key (or of its {hash tag}) mod 16384,
 * exactly as Redis and every cluster-aware client compute it, so CLUSTER SLOTS can describe
 * our real placement (DESIGN.md section 2). Pure.
 */
export const SLOT_COUNT = 16384;

const TABLE = new Uint16Array(256);
for (let byte = 0; byte < 256; byte++) {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) {
    crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  TABLE[byte] = crc;
}

function crc16(key: Buffer, start: number, end: number): number {
  let crc = 0;
  for (let index = start; index < end; index++) {
    crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ (key[index] as number)) & 0xff] as number);
  }
  return crc;
}

const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

/**
 * The hash slot of a key. Only the first '{' counts: if a '}' follows it with at least one
 * byte between them, those bytes are hashed (the {hash tag}); otherwise the whole key.
 */
export function keySlot(key: Buffer): number {
  const length = key.length;
  let open = -1;
  for (let index = 0; index < length; index++) {
    if (key[index] === OPEN_BRACE) {
      open = index;
      break;
    }
  }
  if (open !== -1) {
    for (let index = open + 1; index < length; index++) {
      if (key[index] === CLOSE_BRACE) {
        if (index > open + 1) return crc16(key, open + 1, index) & (SLOT_COUNT - 1);
        break;
      }
    }
  }
  return crc16(key, 0, length) & (SLOT_COUNT - 1);
}
