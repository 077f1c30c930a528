/**
 * Redis Cluster hash slots: CRC16-XMODEM of the key (or of its {hash tag}) mod 16384,
 * exactly as Redis and every cluster-aware client compute it, so CLUSTER SLOTS can describe
 * our real placement (DESIGN.md section 2). Pure.
 */
export const SLOT_COUNT = 16384;

/** CRC16-XMODEM of one byte: TABLE[b] is the CRC of the message [b]. */
const TABLE = new Uint16Array(256);
for (let byte = 0; byte < 256; byte++) {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) {
    crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  TABLE[byte] = crc;
}

function crcStep(crc: number, byte: number): number {
  return ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] as number);
}

/** AFTER_k[b]: the CRC of the message [b, 0 x k] (slicing by 4: four bytes per step). */
function zerosAfter(zeros: number): Uint16Array {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = crcStep(0, byte);
    for (let zero = 0; zero < zeros; zero++) crc = crcStep(crc, 0);
    table[byte] = crc;
  }
  return table;
}
const AFTER_1 = zerosAfter(1);
const AFTER_2 = zerosAfter(2);
const AFTER_3 = zerosAfter(3);

/**
 * CRC16-XMODEM of key[start, end). The CRC is linear, so four bytes at once are the XOR of
 * each byte's CRC followed by the bytes after it, with the register's two bytes folded into
 * the first two: four table reads that do not wait on each other instead of a chain of
 * four (a 16-byte key: ~21 ns, not ~55).
 */
function crc16(key: Buffer, start: number, end: number): number {
  let crc = 0;
  let index = start;
  for (; index + 3 < end; index += 4) crc = crcStep4(crc, key, index);
  for (; index < end; index++) crc = crcStep(crc, key[index] as number);
  return crc;
}

function crcStep4(crc: number, key: Buffer, index: number): number {
  return (AFTER_3[(crc >> 8) ^ (key[index] as number)] as number)
    ^ (AFTER_2[(crc & 0xff) ^ (key[index + 1] as number)] as number)
    ^ (AFTER_1[key[index + 2] as number] as number)
    ^ (TABLE[key[index + 3] as number] as number);
}

const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

/**
 * The hash slot of a key. Only the first '{' counts: if a '}' follows it with at least one
 * byte between them, those bytes are hashed (the {hash tag}); otherwise the whole key.
 */
export function keySlot(key: Buffer): number {
  // Most keys have no '{': hash while looking for one, and start over only if one shows.
  const length = key.length;
  let crc = 0;
  let index = 0;
  for (; index + 3 < length; index += 4) {
    if (key[index] === OPEN_BRACE || key[index + 1] === OPEN_BRACE
        || key[index + 2] === OPEN_BRACE || key[index + 3] === OPEN_BRACE) {
      return taggedSlot(key, index);
    }
    crc = crcStep4(crc, key, index);
  }
  for (; index < length; index++) {
    if (key[index] === OPEN_BRACE) return taggedSlot(key, index);
    crc = crcStep(crc, key[index] as number);
  }
  return crc & (SLOT_COUNT - 1);
}

/** The slot of a key whose first '{' is at or after `from`. */
function taggedSlot(key: Buffer, from: number): number {
  const length = key.length;
  const open = key.indexOf(OPEN_BRACE, from);
  for (let index = open + 1; index < length; index++) {
    if (key[index] === CLOSE_BRACE) {
      if (index > open + 1) return crc16(key, open + 1, index) & (SLOT_COUNT - 1);
      break;
    }
  }
  return crc16(key, 0, length) & (SLOT_COUNT - 1);
}
