/**
 * The server a run loads: its WebSocket URL, the HTTP origin on the same host and port,
 * and, for wss://, the certificate to trust. A plain object, so it crosses into the
 * worker threads as is.
 *
 * The few HTTP calls of a run (/api/session, /healthz, /api/rooms) go through `httpCall`
 * on node:http / node:https rather than fetch: a server on loopback with a self-signed
 * certificate must be trusted per request (`ca`), which fetch cannot be told.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export interface Endpoint {
  /** ws:// or wss:// URL of the game socket (loopback: see options.ts). */
  ws: string;
  /**
   * http:// or https:// origin of the same host and port; paths are appended to it as they are,
   * so a cluster instance's public base (http://127.0.0.1:8080/i/b, instances.ts) works too.
   */
  http: string;
  /** PEM certificate(s) to trust for https / wss instead of the usual roots (`--ca`); undefined for the roots. */
  ca?: string;
}

export function endpoint(wsUrl: string, ca?: string): Endpoint {
  const u = new URL(wsUrl);
  return { ws: wsUrl, http: `${u.protocol === 'wss:' ? 'https' : 'http'}://${u.host}`, ca };
}

export interface HttpAnswer {
  status: number;
  ok: boolean;
  text: string;
}

/**
 * One request to `path` on the endpoint's origin; rejects on a socket or TLS error, or
 * when no whole answer came within `timeoutMs` (a deadline for the whole exchange, not an
 * idle timer), with the URL, the reason and, for TLS trouble, what to do about it.
 */
export function httpCall(ep: Endpoint, path: string, opts: { body?: string; timeoutMs?: number } = {}): Promise<HttpAnswer> {
  const url = `${ep.http}${path}`;
  const timeoutMs = opts.timeoutMs ?? 3000;
  return new Promise((resolve, reject) => {
    let deadline: NodeJS.Timeout | undefined;
    const fail = (err: Error) => {
      clearTimeout(deadline);
      reject(new Error(`${url}: ${err.message}${tlsHint(ep, err)}`));
    };
    const headers = opts.body === undefined ? undefined : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(opts.body) };
    const method = opts.body === undefined ? 'GET' : 'POST';
    const done = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(deadline);
        const status = res.statusCode ?? 0;
        resolve({ status, ok: status >= 200 && status < 300, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', fail);
    };
    const req = ep.http.startsWith('https:') ? https.request(url, { method, headers, ca: ep.ca }, done) : http.request(url, { method, headers }, done);
    deadline = setTimeout(() => req.destroy(new Error(`no whole answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', fail);
    req.end(opts.body);
  });
}

/** What to do about a TLS failure reaching `ep` (empty for other errors), chosen by the error's code. */
export function tlsHint(ep: Endpoint, err: Error): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const host = new URL(ep.http).hostname.replace(/^\[(.*)\]$/, '$1');
  const tls = ep.http.startsWith('https:');
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return ' (the server\'s certificate is out of its validity dates: make a new one)';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return ` (the certificate does not name ${host}: give it subjectAltName=${net.isIP(host) ? `IP:${host}` : `DNS:${host}`}, or use a host it names)`;
  }
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) {
    return ep.ca === undefined
      ? ' (a self-signed server certificate? trust it with --ca FILE)'
      : ' (the --ca file holds neither the server\'s certificate nor its issuer\'s)';
  }
  if (tls && code === 'EPROTO') return ' (is the server serving TLS? without TLS_CERT it speaks ws://, not wss://)';
  if (!tls && (code === 'ECONNRESET' || /hang up/.test(err.message))) return ' (if the server serves TLS, with TLS_CERT, use wss://)';
  return '';
}
