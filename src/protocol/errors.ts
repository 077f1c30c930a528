/**
 * The catalogue of client-visible errors (STYLE.md section 4), with Redis 7's exact text
 * wherever Redis defines one; tests pin them (test/compat, differential tests).
 * Every entry carries its prefix; ReplyWriter.error adds only the leading '-'.
 */

/** `%.128s` of a C string: stops at the first NUL byte and after 128 bytes. */
function cString(bytes: Buffer, maxBytes: number): string {
  const nul = bytes.indexOf(0);
  const end = Math.min(nul === -1 ? bytes.length : nul, maxBytes);
  return bytes.subarray(0, end).toString('utf8');
}

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
  stringTooLong: 'ERR string exceeds maximum allowed size (proto-max-bulk-len)',
  invalidCursor: 'ERR invalid cursor',
  maxClients: 'ERR max number of clients reached',
  internal: 'ERR internal error',

  unknownCommand(name: Buffer, args: readonly Buffer[]): string {
    let shown = '';
    for (let index = 1; index < args.length && shown.length < 128; index++) {
      shown += `'${cString(args[index] as Buffer, 128 - shown.length)}' `;
    }
    return `ERR unknown command '${cString(name, 128)}', with args beginning with: ${shown}`;
  },

  unknownSubcommand(name: Buffer, container: string): string {
    return `ERR unknown subcommand '${cString(name, 128)}'. Try ${container.toUpperCase()} HELP.`;
  },

  wrongArity(fullName: string): string {
    return `ERR wrong number of arguments for '${fullName}' command`;
  },
};
