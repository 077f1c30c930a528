/**
 * A raw RESP client for byte-exact tests: sends bytes as given and collects the raw bytes
 * of each complete reply (any RESP2 or RESP3 type), so replies can be compared byte for
 * byte with redis-server's.
 */
import { connect, type Socket } from 'node:net';
import { waitFor } from './wait.js';

export class RespClient {
  private buffered = Buffer.alloc(0);
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {
      this.closed = true;
    });
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<RespClient> {
    const socket = connect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    return new RespClient(socket);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** Sends a command as a RESP multibulk request. */
  send(...args: Array<string | Buffer>): void {
    this.write(encodeCommand(args));
  }

  /** Waits for `count` complete replies and returns the raw bytes of each. */
  async replies(count: number, timeoutMs = 5000): Promise<Buffer[]> {
    return await waitFor(`${count} replies`, () => {
      const split = splitReplies(this.buffered);
      if (split.replies.length >= count) {
        this.buffered = Buffer.concat(split.replies.slice(count).concat([split.rest]));
        return split.replies.slice(0, count);
      }
      if (this.closed) throw new Error(`connection closed after ${split.replies.length} replies`);
      return undefined;
    }, timeoutMs, 2);
  }

  /** Sends one command and returns its raw reply as a string (latin1, exact bytes). */
  async call(...args: Array<string | Buffer>): Promise<string> {
    this.send(...args);
    const [reply] = await this.replies(1);
    return (reply as Buffer).toString('latin1');
  }

  /** Resolves once the server closed the connection; returns what it sent meanwhile. */
  async closedByServer(timeoutMs = 5000): Promise<Buffer> {
    await waitFor('the server to close the connection', () => (this.closed ? true : undefined),
      timeoutMs, 5);
    return this.buffered;
  }

  close(): void {
    this.socket.destroy();
  }
}

export function encodeCommand(args: ReadonlyArray<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Splits a byte stream into complete replies (raw bytes) and the incomplete rest. */
export function splitReplies(bytes: Buffer): { replies: Buffer[]; rest: Buffer } {
  const replies: Buffer[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const end = replyEnd(bytes, offset);
    if (end === -1) break;
    replies.push(bytes.subarray(offset, end));
    offset = end;
  }
  return { replies, rest: bytes.subarray(offset) };
}

/** The offset just past the RESP value starting at `start`, or -1 if incomplete. */
export function replyEnd(bytes: Buffer, start: number): number {
  const lineEnd = bytes.indexOf('\r\n', start);
  if (lineEnd === -1) return -1;
  const type = String.fromCharCode(bytes[start] as number);
  const header = bytes.subarray(start + 1, lineEnd).toString('latin1');
  const after = lineEnd + 2;
  switch (type) {
    case '+': case '-': case ':': case '_': case ',': case '#': case '(':
      return after;
    case '$': case '!': case '=': {
      const length = Number(header);
      if (length < 0) return after;
      return bytes.length >= after + length + 2 ? after + length + 2 : -1;
    }
    case '*': case '~': case '>': case '%': case '|': {
      let count = Number(header);
      if (count < 0) return after;
      if (type === '%' || type === '|') count *= 2;
      let offset = after;
      for (let index = 0; index < count; index++) {
        offset = replyEnd(bytes, offset);
        if (offset === -1) return -1;
      }
      return offset;
    }
    default:
      throw new Error(`not a RESP reply at offset ${start}: ${JSON.stringify(type)}`);
  }
}
