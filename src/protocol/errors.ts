/**
 * The catalogue of client-visible errors (STYLE.md section 4), with Redis 7's exact text
 * wherever Redis defines one; tests pin them (test/compat, differential tests).
 * Every entry carries its prefix; ReplyWriter.error adds only the leading '-'. Texts are
 * latin1 strings: each character is one byte of the reply.
 */

/** `%.<max>s` of a C string: the bytes up to the first NUL, at most `maxBytes` of them. */
function cBytes(bytes: Buffer, maxBytes: number): Buffer {
  const nul = bytes.indexOf(0);
  return bytes.subarray(0, Math.min(nul === -1 ? bytes.length : nul, maxBytes));
}

/**
 * How C's `%s` (or `%.<max>s`) shows a byte string. Error texts are latin1 strings (one
 * character per byte) and ReplyWriter writes them back byte for byte, so bytes that are not
 * UTF-8 come back exactly as Redis echoes them.
 */
export function cString(bytes: Buffer, maxBytes = Number.MAX_SAFE_INTEGER): string {
  return cBytes(bytes, maxBytes).toString('latin1');
}

const QUOTE = Buffer.from("'");
const QUOTE_SPACE = Buffer.from("' ");

export const errors = {
  noAuth: 'NOAUTH Authentication required.',
  wrongPass: 'WRONGPASS invalid username-password pair or user is disabled.',
  loading: 'LOADING Redis is loading the dataset in memory',
  syntax: 'ERR syntax error',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  overflow: 'ERR increment or decrement would overflow',
  noSuchKey: 'ERR no such key',
  dbIndexOutOfRange: 'ERR DB index is out of range',
  invalidExpire: (command: string): string => `ERR invalid expire time in '${command}' command`,
  /** getRangeLongFromObjectOrReply's message (the missing "be" is Redis's). */
  outOfRange: (min: number, max: number): string =>
    `ERR value is out of range, value must between ${min} and ${max}`,
  stringTooLong: 'ERR string exceeds maximum allowed size (proto-max-bulk-len)',
  invalidCursor: 'ERR invalid cursor',
  maxClients: 'ERR max number of clients reached',
  internal: 'ERR internal error',

  /** Arguments are shown until 128 bytes (not characters) of them have been written. */
  unknownCommand(name: Buffer, args: readonly Buffer[]): string {
    const shown: Buffer[] = [];
    let shownBytes = 0;
    for (let index = 1; index < args.length && shownBytes < 128; index++) {
      const arg = cBytes(args[index] as Buffer, 128 - shownBytes);
      shown.push(QUOTE, arg, QUOTE_SPACE);
      shownBytes += arg.length + 3;
    }
    return `ERR unknown command '${cString(name, 128)}', with args beginning with: ` +
      Buffer.concat(shown).toString('latin1');
  },

  unknownSubcommand(name: Buffer, container: string): string {
    return `ERR unknown subcommand '${cString(name, 128)}'. Try ${container.toUpperCase()} HELP.`;
  },

  /** addReplySubcommandSyntaxError: the subcommand as typed, the command upper-cased. */
  subcommandSyntax(command: Buffer, sub: Buffer): string {
    return `ERR unknown subcommand or wrong number of arguments for '${cString(sub, 128)}'. ` +
      `Try ${cString(command).toUpperCase()} HELP.`;
  },

  wrongArity(fullName: string): string {
    return `ERR wrong number of arguments for '${fullName}' command`;
  },
};
