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

export interface Endpoint {
  /** ws:// or wss:// URL of the game socket (loopback: see options.ts). */
  ws: string;
  /** http:// or https:// origin of the same host and port. */
  http: string;
  /** PEM certificate(s) to trust for https / wss, beyond the system's; undefined for those alone. */
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
 * when no whole answer came within `timeoutMs`, with the reason and the URL in the message.
 */
export function httpCall(ep: Endpoint, path: string, opts: { body?: string; timeoutMs?: number } = {}): Promise<HttpAnswer> {
  const url = `${ep.http}${path}`;
  const timeoutMs = opts.timeoutMs ?? 3000;
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => reject(new Error(`${url}: ${err.message}${tlsHint(ep, err)}`));
    const headers = opts.body === undefined ? undefined : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(opts.body) };
    const method = opts.body === undefined ? 'GET' : 'POST';
    const done = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        resolve({ status, ok: status >= 200 && status < 300, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', fail);
    };
    const req = ep.http.startsWith('https:')
      ? https.request(url, { method, headers, ca: ep.ca, timeout: timeoutMs }, done)
      : http.request(url, { method, headers, timeout: timeoutMs }, done);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', fail);
    req.end(opts.body);
  });
}

/** What to do about a certificate the run does not trust. */
export function tlsHint(ep: Endpoint, err: Error): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (!/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code)) return '';
  return ep.ca === undefined
    ? ' (a self-signed server certificate? pass it with --ca FILE)'
    : ' (--ca does not vouch for this server: the certificate must be the server\'s, or its issuer\'s, and name 127.0.0.1 or localhost in its subjectAltName)';
}
