/**
 * The built client, loaded into memory at start (a few files, ~1.5 MB) with a
 * gzip copy of each compressible one, so serving is a lookup.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface StaticFile {
  body: Uint8Array;
  gzip: Uint8Array | null;
  type: string;
  immutable: boolean; // hashed asset name: cache forever
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml', '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json', '.txt': 'text/plain; charset=utf-8', '.map': 'application/json',
};

export function loadStatic(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  if (!existsSync(dir)) return files;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) { walk(path); continue; }
      const body = readFileSync(path);
      const type = TYPES[extname(name)] ?? 'application/octet-stream';
      const compressible = /text|json|svg|javascript/.test(type) && body.length > 1024;
      const url = `/${relative(dir, path).split(sep).join('/')}`;
      files.set(url, { body, gzip: compressible ? gzipSync(body, { level: 9 }) : null, type, immutable: url.startsWith('/assets/') });
    }
  };
  walk(dir);
  return files;
}
