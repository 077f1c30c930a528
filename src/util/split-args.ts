/**
 * Splits a line into arguments the way Redis's sdssplitargs does, for inline commands and
 * redis.conf lines: whitespace separates, "double quotes" take \n \r \t \b \a \xHH and
 * \<any> escapes, 'single quotes' take only \'. A closing quote must be followed by
 * whitespace or the end. A NUL byte ends the line, as in the C original.
 * Returns null for unbalanced quotes. Iterative, linear in the line length. Arguments of a
 * line without quotes are slices of it; copy them before keeping them.
 */
const NUL = 0;
const SPACE = 32;
const TAB = 9;
const LF = 10;
const VT = 11;
const FF = 12;
const CR = 13;
const DOUBLE_QUOTE = 34;
const SINGLE_QUOTE = 39;
const BACKSLASH = 92;

function isSpace(byte: number): boolean {
  return byte === SPACE || (byte >= TAB && byte <= CR);
}

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  if (byte >= 97 && byte <= 102) return byte - 87;
  if (byte >= 65 && byte <= 70) return byte - 55;
  return -1;
}

const ESCAPES: Record<number, number> = { 110: LF, 114: CR, 116: TAB, 98: 8, 97: 7 };

export function splitArgs(line: Buffer): Buffer[] | null {
  return isPlain(line) ? splitPlain(line) : splitQuoted(line);
}

/** True when the line has no quotes and no bytes with special meaning (the common case). */
function isPlain(line: Buffer): boolean {
  for (let index = 0; index < line.length; index++) {
    const byte = line[index] as number;
    if (byte === DOUBLE_QUOTE || byte === SINGLE_QUOTE || byte === NUL || byte === VT ||
        byte === FF) {
      return false;
    }
  }
  return true;
}

/** Zero-copy split on space, tab, CR and LF. */
function splitPlain(line: Buffer): Buffer[] {
  const args: Buffer[] = [];
  let start = -1;
  for (let index = 0; index <= line.length; index++) {
    const byte = index < line.length ? (line[index] as number) : SPACE;
    const separator = byte === SPACE || byte === TAB || byte === CR || byte === LF;
    if (separator) {
      if (start !== -1) args.push(line.subarray(start, index));
      start = -1;
    } else if (start === -1) {
      start = index;
    }
  }
  return args;
}

function splitQuoted(line: Buffer): Buffer[] | null {
  const args: Buffer[] = [];
  const length = line.length;
  // A byte past the end reads as NUL, which is how the C code sees the string's end.
  const at = (index: number): number => (index < length ? (line[index] as number) : NUL);
  let index = 0;
  for (;;) {
    while (at(index) !== NUL && isSpace(at(index))) index++;
    if (at(index) === NUL) return args;
    const token: number[] = [];
    let inDouble = false;
    let inSingle = false;
    let done = false;
    while (!done) {
      const byte = at(index);
      if (inDouble) {
        if (byte === BACKSLASH && at(index + 1) === 120 &&
            hexValue(at(index + 2)) >= 0 && hexValue(at(index + 3)) >= 0) {
          token.push(hexValue(at(index + 2)) * 16 + hexValue(at(index + 3)));
          index += 3;
        } else if (byte === BACKSLASH && at(index + 1) !== NUL) {
          index++;
          const escaped = at(index);
          token.push(ESCAPES[escaped] ?? escaped);
        } else if (byte === DOUBLE_QUOTE) {
          if (at(index + 1) !== NUL && !isSpace(at(index + 1))) return null;
          done = true;
        } else if (byte === NUL) {
          return null;
        } else {
          token.push(byte);
        }
      } else if (inSingle) {
        if (byte === BACKSLASH && at(index + 1) === SINGLE_QUOTE) {
          index++;
          token.push(SINGLE_QUOTE);
        } else if (byte === SINGLE_QUOTE) {
          if (at(index + 1) !== NUL && !isSpace(at(index + 1))) return null;
          done = true;
        } else if (byte === NUL) {
          return null;
        } else {
          token.push(byte);
        }
      } else if (byte === SPACE || byte === LF || byte === CR || byte === TAB || byte === NUL) {
        done = true;
      } else if (byte === DOUBLE_QUOTE) {
        inDouble = true;
      } else if (byte === SINGLE_QUOTE) {
        inSingle = true;
      } else {
        token.push(byte);
      }
      if (at(index) !== NUL) index++;
    }
    args.push(Buffer.from(token));
  }
}
