/**
 * A minimal client-side WebSocket (RFC 6455) on `node:net`, for the load-test bots and
 * probe on loopback. `ws` passes every read through a Writable-stream parser and every
 * message through EventEmitter events, a cost a worker of 500 bots pays ~10,000 times a
 * second. Here each read chunk is parsed in place and each message goes to one callback
 * as a view into that chunk.
 *
 * Frame layout (RFC 6455 §5.2), network byte order:
 *
 *   byte 0    FIN(1) RSV1-3(3) opcode(4)    0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong
 *   byte 1    MASK(1) len(7)                len < 126: payload length; 126: uint16 follows; 127: uint64 follows
 *   [2 or 8]  extended payload length
 *   [4]       masking key, only when MASK = 1 (always client → server, never server → client)
 *   payload   byte i XORed with key[i % 4]
 *
 * A control frame (opcode ≥ 8) is never fragmented and carries ≤ 125 bytes; a close payload
 * is a uint16 code, then a UTF-8 reason. A fragmented message is a text/binary frame without
 * FIN, then continuation frames up to one with FIN; control frames may come in between.
 *
 * Loopback only, by construction: the constructor refuses other hosts. wss:// runs the same
 * bytes over node:tls, trusting an extra certificate when given one (`ca`). Left out, as a
 * loopback load tool needs none of it: extensions (permessage-deflate), subprotocols, UTF-8
 * validation of text, redirects, proxies.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'; // RFC 6455 §1.3
const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;
const MAX_MESSAGE = 16 << 20; // bytes; far beyond any server message, so a larger length means a broken stream
const MAX_HEAD = 16 << 10; // bytes of handshake response (headers, and a refusal's body) kept
const CLOSE_TIMEOUT_MS = 1000; // after our close frame or the socket's end, how long the peer may stay silent before we hang up
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2; // our close frame is out; frames still arrive until the peer's reply
const CLOSED = 3; // no more reads or writes
const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

export interface WireHandlers {
  onOpen(): void;
  /**
   * One whole message. `data` is a view into the read chunk (no copy) when the frame lay
   * wholly in one read, else a fresh Buffer; either way it stays valid after the callback.
   */
  onMessage(data: Buffer, binary: boolean): void;
  /** Exactly once, last: the peer's close code and reason, or 1006 when the socket ended without a close frame. */
  onClose(code: number, reason: string): void;
  /** A connect or socket error, a protocol error, or a refused upgrade (`UnexpectedResponse`); onClose follows. */
  onError(err: Error): void;
}

/** The server answered the upgrade with something other than 101 (e.g. 403 and a reason in the body). */
export class UnexpectedResponse extends Error {
  constructor(readonly status: number, readonly body: string) {
    super(`unexpected response: HTTP ${status}${body ? ` ${body}` : ''}`);
  }
}

/** Where `url` points; throws unless it is ws:// or wss:// to 127.0.0.0/8, ::1 or localhost. */
export function loopbackTarget(url: string): { host: string; port: number; hostHeader: string; path: string; tls: boolean } {
  const u = new URL(url);
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`wire: only ws:// and wss:// URLs (got ${u.protocol}//)`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!LOOPBACK.test(host)) throw new Error(`wire: host "${host}" refused: load tests only target loopback (127.0.0.0/8, ::1, localhost)`);
  const tls = u.protocol === 'wss:';
  return { host, port: Number(u.port || (tls ? 443 : 80)), hostHeader: u.host, path: `${u.pathname}${u.search}`, tls };
}

const acceptFor = (key: string) => createHash('sha1').update(key + GUID).digest('base64');

export class Wire {
  private readonly socket: net.Socket;
  private readonly key = randomBytes(16).toString('base64');
  private state = CONNECTING;
  private done = false; // onClose was called
  private head: Buffer | null = null; // handshake response so far
  private pending: Buffer[] = []; // a partial frame, in pieces; parsed once `need` bytes are here
  private pendingLen = 0;
  private need = 0; // bytes from the partial frame's start that let it be parsed further
  private fragments: Buffer[] | null = null; // a fragmented message being assembled
  private fragmentsLen = 0;
  private fragmentsBinary = false;

  /** `opts.ca`: PEM certificate(s) to trust for wss:// instead of the usual roots (a server's self-signed one). */
  constructor(url: string, private readonly h: WireHandlers, opts: { origin?: string; ca?: string } = {}) {
    const t = loopbackTarget(url);
    if (opts.origin && /[\r\n]/.test(opts.origin)) throw new Error('wire: origin must be one line');
    // An IP is checked against the certificate's IP names; only a host name may go as SNI (RFC 6066).
    const s = t.tls
      ? tls.connect({ host: t.host, port: t.port, ca: opts.ca, servername: net.isIP(t.host) ? undefined : t.host })
      : net.connect(t.port, t.host);
    this.socket = s;
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => this.read(chunk));
    s.on('end', () => { if (this.state === CONNECTING) this.readHandshake(Buffer.alloc(0), true); });
    s.on('error', (err) => { if (!this.done) h.onError(err); });
    s.on('close', () => this.finish(1006, ''));
    // Armed only once closing (`hangUpWithin`).
    s.on('timeout', () => s.destroy());
    s.write(`GET ${t.path} HTTP/1.1\r\nHost: ${t.hostHeader}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
      + `Sec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n${opts.origin ? `Origin: ${opts.origin}\r\n` : ''}\r\n`);
  }

  get isOpen(): boolean {
    return this.state === OPEN;
  }

  /** One binary message; dropped unless open. */
  send(bytes: Uint8Array): void {
    if (this.state === OPEN) this.write(OP_BINARY, bytes);
  }

  /** Sends a close frame; the socket ends when the peer's reply comes, or once it has been silent for CLOSE_TIMEOUT_MS. */
  close(code = 1000, reason = ''): void {
    if (this.state === CONNECTING) this.terminate();
    if (this.state !== OPEN) return;
    this.write(OP_CLOSE, Buffer.concat([Buffer.of(code >> 8, code & 0xff), Buffer.from(reason).subarray(0, 123)])); // ≤ 125 bytes
    this.state = CLOSING;
    this.hangUpWithin(CLOSE_TIMEOUT_MS);
  }

  /**
   * Destroys the socket once it has been silent for `ms` (a peer that never answers our close
   * or never hangs up). The socket's idle timer, so this module starts no timer of its own.
   */
  private hangUpWithin(ms: number): void {
    this.socket.setTimeout(ms);
  }

  /** Destroys the socket at once, no close frame (a lost network); onClose(1006) follows. */
  terminate(): void {
    this.state = CLOSED;
    this.socket.destroy();
  }

  /** Bytes from the socket, in order (public so tests can feed a stream in any pieces). */
  read(chunk: Buffer): void {
    if (this.state === CONNECTING) this.readHandshake(chunk, false);
    else if (this.state !== CLOSED) this.readFrames(chunk);
  }

  private readFrames(chunk: Buffer): void {
    let buf = chunk;
    if (this.pendingLen > 0) {
      this.pending.push(chunk);
      this.pendingLen += chunk.length;
      if (this.pendingLen < this.need) return; // pieces are joined once, when the frame is whole
      buf = Buffer.concat(this.pending, this.pendingLen);
      this.pending.length = 0;
      this.pendingLen = 0;
    }
    let at = 0;
    while (at < buf.length && this.state !== CLOSED) { // a handler may close or terminate
      const used = this.frame(buf, at);
      if (used === 0) break;
      at += used;
    }
    if (at < buf.length && this.state !== CLOSED) {
      this.pending.push(at === 0 ? buf : buf.subarray(at));
      this.pendingLen = buf.length - at;
    }
  }

  /** Handles the frame at `at`; returns its size, or 0 (setting `need`) when `buf` holds only part of it. */
  private frame(buf: Buffer, at: number): number {
    const avail = buf.length - at;
    this.need = 2;
    if (avail < 2) return 0;
    const b0 = buf[at];
    const b1 = buf[at + 1];
    if ((b0 & 0x70) !== 0 || (b1 & 0x80) !== 0) return this.fail('reserved bits or mask set on a server frame');
    let len = b1 & 0x7f;
    let hdr = 2;
    if (len >= 126) {
      this.need = hdr = len === 126 ? 4 : 10;
      if (avail < hdr) return 0;
      len = hdr === 4 ? buf.readUInt16BE(at + 2) : buf.readUInt32BE(at + 2) * 2 ** 32 + buf.readUInt32BE(at + 6);
    }
    if (len > MAX_MESSAGE) return this.fail(`frame of ${len} bytes`);
    this.need = hdr + len;
    if (avail < hdr + len) return 0;
    this.dispatch(b0, buf.subarray(at + hdr, at + hdr + len));
    return hdr + len;
  }

  private dispatch(b0: number, payload: Buffer): void {
    const fin = (b0 & 0x80) !== 0;
    const op = b0 & 0x0f;
    if (op >= OP_CLOSE && (!fin || payload.length > 125)) this.fail('fragmented or long control frame');
    else if (op === OP_PING) {
      if (this.state === OPEN) this.write(OP_PONG, payload); // the server drops sockets that do not answer
    } else if (op === OP_PONG) {
      // unsolicited or not, nothing to do
    } else if (op === OP_CLOSE) this.closeFrame(payload);
    else if (op === OP_CONT && this.fragments) {
      this.fragments.push(payload);
      this.fragmentsLen += payload.length;
      if (this.fragmentsLen > MAX_MESSAGE) this.fail(`message over ${MAX_MESSAGE} bytes`);
      else if (fin) {
        const whole = Buffer.concat(this.fragments, this.fragmentsLen);
        this.fragments = null;
        this.h.onMessage(whole, this.fragmentsBinary);
      }
    } else if ((op !== OP_TEXT && op !== OP_BINARY) || this.fragments) this.fail(`unexpected opcode ${op}`);
    else if (fin) this.h.onMessage(payload, op === OP_BINARY);
    else {
      this.fragments = [payload];
      this.fragmentsLen = payload.length;
      this.fragmentsBinary = op === OP_BINARY;
    }
  }

  /** The peer's close frame: answer it (unless it answers ours), end the socket, report its code and reason. */
  private closeFrame(payload: Buffer): void {
    if (payload.length === 1) return void this.fail('close frame of 1 byte');
    const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005; // 1005: no code given
    if (this.state === OPEN) this.write(OP_CLOSE, payload.subarray(0, 2)); // echo the code
    this.state = CLOSED;
    this.socket.end();
    this.hangUpWithin(CLOSE_TIMEOUT_MS); // if the peer never hangs up
    this.finish(code, payload.toString('utf8', 2));
  }

  /** Protocol error: close 1002 and hang up; onClose reports 1006 (no close frame came). Returns 0 for `frame`. */
  private fail(why: string): number {
    if (this.state === OPEN) this.write(OP_CLOSE, Buffer.from([0x03, 0xea])); // 1002
    this.abort(new Error(`wire: ${why}`));
    return 0;
  }

  private abort(err: Error): void {
    this.state = CLOSED;
    this.socket.destroy();
    if (!this.done) this.h.onError(err);
  }

  private finish(code: number, reason: string): void {
    if (this.done) return;
    this.done = true;
    this.state = CLOSED;
    this.h.onClose(code, reason);
  }

  /** The 101 and its Sec-WebSocket-Accept; anything else is reported with its status and body. */
  private readHandshake(chunk: Buffer, ended: boolean): void {
    const head = this.head ? Buffer.concat([this.head, chunk]) : chunk;
    this.head = head;
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (ended || head.length > MAX_HEAD) this.abort(new Error(`wire: no HTTP response head (${head.length} bytes)`));
      return;
    }
    const [statusLine, ...lines] = head.toString('latin1', 0, end).split('\r\n');
    const header = (name: string) => lines.find((l) => l.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
    const rest = head.subarray(end + 4);
    if (status !== 101) {
      const length = Number(header('content-length')); // NaN without one: the body runs to the socket's end
      const whole = Number.isNaN(length) ? ended : rest.length >= length;
      if (!whole && !ended && head.length <= MAX_HEAD) return;
      this.abort(new UnexpectedResponse(status, (Number.isNaN(length) ? rest : rest.subarray(0, length)).toString('utf8')));
    } else if (header('sec-websocket-accept') !== acceptFor(this.key)) {
      this.abort(new Error('wire: wrong Sec-WebSocket-Accept'));
    } else {
      this.head = null;
      this.state = OPEN;
      this.h.onOpen();
      if (rest.length > 0) this.read(rest); // frames that came with the 101
    }
  }

  /**
   * One frame, header and payload in one buffer and one socket.write. Client frames must be
   * masked (§5.3); the all-zero key is valid and makes the XOR a no-op, so the payload is
   * copied as it is. The mask guards proxies a browser talks through against cache poisoning;
   * on loopback there are none. Fit for loopback load tests only.
   */
  private write(op: number, payload: Uint8Array): void {
    const len = payload.length;
    if (len > 0xffff) throw new Error(`wire: ${len} bytes to send; the server takes ≤ 1 KB, this client < 64 KB`);
    const hdr = len < 126 ? 6 : 8;
    const out = Buffer.allocUnsafe(hdr + len); // < 4 KB: a slice of Node's shared pool
    out[0] = 0x80 | op; // FIN: one frame per message
    out[1] = 0x80 | (len < 126 ? len : 126); // MASK, and the 7-bit length or "uint16 follows"
    if (len >= 126) out.writeUInt16BE(len, 2);
    out.writeUInt32BE(0, hdr - 4); // the mask key
    out.set(payload, hdr);
    this.socket.write(out);
  }
}
