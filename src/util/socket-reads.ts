/**
 * How bytes reach us from a socket, without the cost of Node's default path per read.
 *
 * By default every socket read gets its own 64 KiB allocation, shrunk to the bytes read and
 * wrapped in a new ArrayBuffer, then goes through Readable.push and a 'data' event. Those
 * ArrayBuffers are what young-generation GCs sweep, and a loaded node makes tens of
 * thousands of reads a second (a client request, a PEER.PUT, an acknowledgement).
 *
 * Here the kernel writes every read into one shared buffer (Node's `onread` user-buffer
 * mode; reads are handled one at a time on the main thread), and the bytes are copied out
 * into slabs of SLAB_BYTES handed out in order, so a read costs a memcpy and one Buffer view
 * and the handler may keep views into what it was given, exactly as it could keep views
 * into a 'data' chunk. A read larger than SLAB_READ_MAX gets an exact-size buffer of its own.
 * A bare server measured 13.0 -> 11.9 us of CPU per GET at -P 1 (bench/RESULTS.md).
 *
 * Client sockets take the documented `onread` option of net.connect (`connectReading`).
 * Sockets accepted by a net.Server cannot: `readSocket` switches them over through the
 * fields net.Socket's constructor fills from that option. If a Node release renames them,
 * it falls back to 'data' events, which behave the same for the handler.
 */
import { connect, type Socket, type TcpNetConnectOpts } from 'node:net';
import { bufferView } from './buffers.js';

/** What libuv may read at once (its suggested size, as Node's default path uses). */
const READ_BYTES = 64 * 1024;
/** Reads of up to this many bytes share slabs; bigger ones get their own buffer. */
const SLAB_READ_MAX = 16 * 1024;
/**
 * Copied reads share a slab until it is full. A view someone keeps pins its whole slab, as
 * it pinned its whole chunk before, so code that keeps an argument for long copies it
 * (request-decoder.ts says so).
 */
const SLAB_BYTES = 64 * 1024;

const readBuffer = Buffer.allocUnsafeSlow(READ_BYTES);
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

/** The first `length` bytes of the shared read buffer, copied where they can stay. */
function takeRead(length: number): Buffer {
  if (length > SLAB_READ_MAX) return Buffer.from(readBuffer.subarray(0, length));
  if (slabUsed + length > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const chunk = bufferView(slab, slabUsed, length);
  readBuffer.copy(chunk, 0, 0, length);
  // Keep views 8-byte aligned: the next chunk starts on a fresh word.
  slabUsed += (length + 7) & ~7;
  return chunk;
}

type ChunkHandler = (chunk: Buffer) => void;

/** The `onread` callback that hands `onChunk` each read, copied out of the shared buffer. */
function deliverTo(onChunk: ChunkHandler): (length: number) => boolean {
  return (length) => {
    onChunk(takeRead(length));
    return true;
  };
}

/** net.connect, with each read delivered to `onChunk` this way. */
export function connectReading(options: TcpNetConnectOpts, onChunk: ChunkHandler): Socket {
  return connect({ ...options, onread: { buffer: readBuffer, callback: deliverTo(onChunk) } });
}

interface UserBufferFields {
  buffer: symbol;
  callback: symbol;
}

let fields: UserBufferFields | null | undefined;

/** The symbols behind net.Socket's `onread` support, or null if this Node lacks them. */
function userBufferFields(socket: Socket): UserBufferFields | null {
  if (fields !== undefined) return fields;
  const byName = new Map<string, symbol>();
  for (const symbol of Object.getOwnPropertySymbols(socket)) {
    if (symbol.description !== undefined) byName.set(symbol.description, symbol);
  }
  const buffer = byName.get('kBuffer');
  const callback = byName.get('kBufferCb');
  fields = buffer !== undefined && callback !== undefined ? { buffer, callback } : null;
  return fields;
}

interface UserBufferHandle {
  useUserBuffer?: (buffer: Uint8Array) => void;
}

/**
 * Delivers each read of an accepted socket to `onChunk`. Call it when the server hands the
 * socket over ('connection'), before the event loop turns: no read has happened yet.
 * Pausing and resuming the socket work as with 'data' events.
 */
export function readSocket(socket: Socket, onChunk: ChunkHandler): void {
  const handle = (socket as unknown as { _handle?: UserBufferHandle | null })._handle;
  const known = userBufferFields(socket);
  if (known !== null && handle !== undefined && handle !== null &&
      typeof handle.useUserBuffer === 'function') {
    const target = socket as unknown as Record<symbol, unknown>;
    if (target[known.buffer] === null && target[known.callback] === null) {
      target[known.buffer] = readBuffer;
      target[known.callback] = deliverTo(onChunk);
      handle.useUserBuffer(readBuffer);
      return;
    }
  }
  socket.on('data', onChunk);
  skipReadMore(socket);
}

/**
 * For the 'data' fallback: Node's Readable calls maybeReadMore after every chunk it emits
 * (a process.nextTick and a pass of processTicksAndRejections, which allocates a Map in Node
 * 20). A socket in flowing mode never needs it: libuv reads until the stream pauses. Marking
 * the stream as already "reading more" skips it (GET -P 1: 1906 -> 1510 bytes allocated per
 * request). `_readableState` is Node's own field; if a release changes it, this does nothing.
 */
function skipReadMore(socket: Socket): void {
  const state = (socket as unknown as { _readableState?: { readingMore?: unknown } })
    ._readableState;
  if (state !== undefined && typeof state.readingMore === 'boolean') state.readingMore = true;
}
