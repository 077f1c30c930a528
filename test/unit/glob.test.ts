/**
 * globMatch: Redis's stringmatchlen (KEYS, SCAN MATCH, CONFIG GET). The truth table below
 * was recorded with KEYS against redis-server 7.0.15 (case-sensitive); nocase cases follow
 * util.c and CONFIG GET on the same server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { globMatch } from '../../src/util/glob.js';
import { referenceGlobMatch } from './redis-reference.js';

const SUBJECTS = ['a', 'b', 'ab', 'abc', 'aXc', 'a]', ']', '-', 'a-', '^', '\\', '*', '?', '[',
  'hello', 'hallo', 'hxllo', 'hllo', 'heeeello', 'x*y', 'A', 'acb', 'ac', 'abcabc', 'aaab'];

/** pattern -> the subjects (of SUBJECTS) it matched in KEYS on redis-server 7.0.15. */
const RECORDED: Array<[string, string[]]> = [
  ['**', SUBJECTS],
  ['?*', SUBJECTS],
  ['*?', SUBJECTS],
  ['a*', ['a', 'ab', 'abc', 'aXc', 'a]', 'a-', 'acb', 'ac', 'abcabc', 'aaab']],
  ['*c', ['abc', 'aXc', 'ac', 'abcabc']],
  ['a?c', ['abc', 'aXc']],
  ['[abc]', ['a', 'b']],
  ['[^abc]', [']', '-', '^', '\\', '*', '?', '[', 'A']],
  ['[a-c]', ['a', 'b']],
  ['[c-a]', ['a', 'b']],
  ['[^c-a]', [']', '-', '^', '\\', '*', '?', '[', 'A']],
  ['[a-]', ['a', ']', '^']],
  ['[-a]', ['a', '-']],
  ['[]]', []],
  ['[]a]', []],
  ['[\\]]', [']']],
  ['[!a]', ['a']],
  ['[abc', ['a', 'b']],
  ['[^', ['a', 'b', ']', '-', '^', '\\', '*', '?', '[', 'A']],
  ['[', []],
  ['a[', []],
  ['\\*', ['*']],
  ['\\?', ['?']],
  ['\\[', ['[']],
  ['\\', ['\\']],
  ['a\\', []],
  ['h?llo', ['hello', 'hallo', 'hxllo']],
  ['h*llo', ['hello', 'hallo', 'hxllo', 'hllo', 'heeeello']],
  ['h[ae]llo', ['hello', 'hallo']],
  ['h[^e]llo', ['hallo', 'hxllo']],
  ['h[a-b]llo', ['hallo']],
  ['x\\*y', ['x*y']],
  ['[\\a-c]', ['a', '-']],
  ['[a\\-c]', ['a', '-']],
  ['[a-\\]]', ['a]']],
  ['*a*b', ['ab', 'acb', 'aaab']],
  ['a*a*b', ['aaab']],
  ['*[', []],
  ['[*]', ['*']],
  ['***a', ['a']],
  ['a**', ['a', 'ab', 'abc', 'aXc', 'a]', 'a-', 'acb', 'ac', 'abcabc', 'aaab']],
  ['[a-c', ['a', 'b']],
  ['[^a-c', [']', '-', '^', '\\', '*', '?', '[', 'A']],
  ['[]', []],
];

for (const [pattern, matched] of RECORDED) {
  test(`glob ${JSON.stringify(pattern)} (recorded from Redis KEYS)`, () => {
    const patternBytes = Buffer.from(pattern, 'latin1');
    for (const subject of SUBJECTS) {
      const expected = matched.includes(subject);
      const subjectBytes = Buffer.from(subject, 'latin1');
      assert.equal(referenceGlobMatch(patternBytes, subjectBytes, false), expected,
        `reference: ${pattern} vs ${subject}`);
      assert.equal(globMatch(patternBytes, subjectBytes), expected, `${pattern} vs ${subject}`);
    }
  });
}

interface Case {
  pattern: string;
  subject: string;
  nocase?: boolean;
  match: boolean;
  todo?: string;
}

const CASES: Case[] = [
  { pattern: '', subject: '', match: true },
  { pattern: '', subject: 'a', match: false },
  { pattern: 'a', subject: '', match: false },
  { pattern: '*', subject: 'anything at all', match: true },
  { pattern: '*', subject: '', match: false },
  { pattern: '**', subject: '', match: false },
  { pattern: 'user:*:name', subject: 'user:1000:name', match: true },
  { pattern: 'user:*:name', subject: 'user:1000:email', match: false },
  { pattern: 'a*b*c', subject: 'a__b__b__c', match: true },
  { pattern: 'a*b*c', subject: 'a__c__b', match: false },
  { pattern: '*.txt', subject: '.txt', match: true },
  { pattern: '?', subject: '\xff', match: true },
  { pattern: '[\x80-\xff]', subject: '\xb0', match: true },
  // nocase (CONFIG GET): literals, classes and ranges fold ASCII case.
  { pattern: 'MAXCLIENTS', subject: 'maxclients', nocase: true, match: true },
  { pattern: 'max*', subject: 'MAXCLIENTS', nocase: true, match: true },
  { pattern: '[M]axclients', subject: 'maxclients', nocase: true, match: true },
  { pattern: '[^M]axclients', subject: 'maxclients', nocase: true, match: false },
  { pattern: '[M-M]axclients', subject: 'maxclients', nocase: true, match: true },
  { pattern: '[m-m]AXCLIENTS', subject: 'maxclients', nocase: true, match: true },
  { pattern: '\\Maxclient?', subject: 'maxclients', nocase: true, match: true },
  { pattern: 'MAXCLIENTS', subject: 'maxclients', nocase: false, match: false },
  { pattern: '[Z-a]', subject: '_', nocase: true, match: false },
  { pattern: '[Z-a]', subject: '_', nocase: false, match: true },
  { pattern: '[\\M]axclients', subject: 'maxclients', nocase: true, match: false },
];

for (const testCase of CASES) {
  const name = `glob ${JSON.stringify(testCase.pattern)} vs ${JSON.stringify(testCase.subject)}` +
    (testCase.nocase === true ? ' (nocase)' : '');
  test(name, testCase.todo === undefined ? {} : { todo: testCase.todo }, () => {
    const pattern = Buffer.from(testCase.pattern, 'latin1');
    const subject = Buffer.from(testCase.subject, 'latin1');
    const nocase = testCase.nocase ?? false;
    assert.equal(referenceGlobMatch(pattern, subject, nocase), testCase.match, 'reference');
    assert.equal(globMatch(pattern, subject, nocase), testCase.match);
  });
}

test('glob: pathological patterns finish (no exponential backtracking)', () => {
  const subject = Buffer.alloc(10 * 1024, 'a');
  assert.equal(globMatch(Buffer.from('a*a*a*a*a*a*a*a*b'), subject), false);
  assert.equal(globMatch(Buffer.from(`${'*a'.repeat(100)}b`), subject), false);
  assert.equal(globMatch(Buffer.from(`${'a*'.repeat(200)}a`), subject), true);
  assert.equal(globMatch(Buffer.from('*'.repeat(64 * 1024)), subject), true);
  assert.equal(globMatch(Buffer.from(`${'?'.repeat(10 * 1024)}*`), subject), true);
  assert.equal(globMatch(Buffer.from('[a'.repeat(1000)), subject), false);
});

// ASCII only: Redis compares signed chars in ranges, so a range across 0x80 differs
// (a documented deviation: "[a-\xff]" matches neither "b" nor "\xb0" in Redis).
const patternByte = fc.constantFrom(...'ab*?[]^-\\Bc'.split(''));
const subjectByte = fc.constantFrom(...'abcB]-^\\*?['.split(''));
const asText = (chars: string[]): Buffer => Buffer.from(chars.join(''), 'latin1');

test('property: globMatch agrees with the reference matcher (case-sensitive)', () => {
  fc.assert(fc.property(
    fc.array(patternByte, { maxLength: 12 }).map(asText),
    fc.array(subjectByte, { maxLength: 12 }).map(asText),
    (pattern, subject) => {
      assert.equal(globMatch(pattern, subject, false), referenceGlobMatch(pattern, subject, false));
    }), { numRuns: 20000 });
});

test('property: globMatch agrees with the reference matcher (nocase)', () => {
  const nocasePatternByte = fc.constantFrom(...'aAbB*?[]^-Zz_\\'.split(''));
  const nocaseSubjectByte = fc.constantFrom(...'aAbBzZ_]-^\\'.split(''));
  fc.assert(fc.property(
    fc.array(nocasePatternByte, { maxLength: 12 }).map(asText),
    fc.array(nocaseSubjectByte, { maxLength: 12 }).map(asText),
    (pattern, subject) => {
      assert.equal(globMatch(pattern, subject, true), referenceGlobMatch(pattern, subject, true));
    }), { numRuns: 20000 });
});

test('property: a literal pattern matches exactly itself; `*` alone matches any non-empty', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 50 }), (bytes) => {
    const subject = Buffer.from(bytes);
    const escaped = Buffer.from([...subject].flatMap((byte) => [92, byte]));
    assert.ok(globMatch(escaped, subject));
    assert.ok(globMatch(Buffer.from('*'), subject));
    assert.ok(!globMatch(escaped, Buffer.concat([subject, Buffer.from('x')])));
  }), { numRuns: 2000 });
});
