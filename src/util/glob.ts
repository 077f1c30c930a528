/**
 * Redis glob matching (stringmatchlen): `*`, `?`, `[abc]`, `[^a-z]`, `\x` escapes, with an
 * optional case-insensitive mode. Iterative, O(pattern x subject) in the worst case with no
 * recursion and no RegExp built from user input (CVE-2022-36021, CVE-2024-31228).
 *
 * Every token other than `*` matches exactly one byte, so the classic single-backtrack
 * algorithm is exact: on a mismatch, retry from the last `*` with one more byte consumed.
 */
const STAR = 42;
const QUESTION = 63;
const OPEN = 91;
const CLOSE = 93;
const CARET = 94;
const BACKSLASH = 92;
const DASH = 45;

function lower(byte: number): number {
  return byte >= 65 && byte <= 90 ? byte + 32 : byte;
}

/**
 * Matches one token at pattern[p] against byte; returns the index after the token, or -1
 * when it does not match.
 */
function matchToken(pattern: Buffer, p: number, byte: number, nocase: boolean): number {
  const length = pattern.length;
  const token = pattern[p] as number;
  if (token === QUESTION) return p + 1;
  if (token === OPEN) return matchClass(pattern, p + 1, byte, nocase);
  let literal = token;
  let next = p + 1;
  if (token === BACKSLASH && p + 1 < length) {
    literal = pattern[p + 1] as number;
    next = p + 2;
  }
  const equal = nocase ? lower(literal) === lower(byte) : literal === byte;
  return equal ? next : -1;
}

/** A `[...]` class starting after the bracket; an unterminated class ends the pattern. */
function matchClass(pattern: Buffer, p: number, byte: number, nocase: boolean): number {
  const length = pattern.length;
  let negate = false;
  if (p < length && pattern[p] === CARET) {
    negate = true;
    p++;
  }
  let matched = false;
  const subject = nocase ? lower(byte) : byte;
  while (p < length && pattern[p] !== CLOSE) {
    if (pattern[p] === BACKSLASH && p + 1 < length) {
      // Redis compares an escaped class member exactly, even in nocase mode.
      if (pattern[p + 1] === byte) matched = true;
      p += 2;
    } else if (p + 2 < length && pattern[p + 1] === DASH) {
      let start = pattern[p] as number;
      let end = pattern[p + 2] as number;
      if (start > end) [start, end] = [end, start];
      if (nocase) {
        start = lower(start);
        end = lower(end);
      }
      if (subject >= start && subject <= end) matched = true;
      p += 3;
    } else {
      const literal = pattern[p] as number;
      if ((nocase ? lower(literal) : literal) === subject) matched = true;
      p++;
    }
  }
  // p is at ']' (skip it) or at the end (unterminated class: Redis treats it as closed).
  const next = p < length ? p + 1 : length;
  return matched !== negate ? next : -1;
}

export function globMatch(pattern: Buffer, subject: Buffer, nocase = false): boolean {
  const patternLength = pattern.length;
  const subjectLength = subject.length;
  // stringmatchlen's loop never starts on an empty subject: only an empty pattern matches
  // it ("*" included; KEYS and SCAN special-case a lone "*" before matching).
  if (subjectLength === 0) return patternLength === 0;
  let p = 0;
  let s = 0;
  let starPattern = -1;
  let starSubject = 0;
  while (s < subjectLength) {
    if (p < patternLength && pattern[p] === STAR) {
      while (p < patternLength && pattern[p] === STAR) p++;
      if (p === patternLength) return true;
      starPattern = p;
      starSubject = s;
      continue;
    }
    if (p < patternLength) {
      const next = matchToken(pattern, p, subject[s] as number, nocase);
      if (next !== -1) {
        p = next;
        s++;
        continue;
      }
    }
    if (starPattern === -1) return false;
    starSubject++;
    s = starSubject;
    p = starPattern;
  }
  while (p < patternLength && pattern[p] === STAR) p++;
  return p === patternLength;
}
