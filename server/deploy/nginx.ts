/**
 * The nginx front of a cluster: renders server/deploy/nginx.conf (the one file, its
 * {{…}} fields filled in) and runs Debian's nginx on it in the foreground with every
 * path under a run directory. As a CLI, prints the rendered file for a deployment:
 *
 *   npm run nginx-conf -- --listen 80 --client-dir /srv/tickwire/dist/client \
 *     --run-dir /var/lib/tickwire-nginx --instance a=10.0.0.1:8080 --instance b=10.0.0.2:8080
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { INSTANCE_ID } from '../config.ts';
import { findBinary, missingLine } from './binaries.ts';
import { type LineLog, type Proc, spawnProc, waitUntil } from './procs.ts';

export const NGINX_TEMPLATE = fileURLToPath(new URL('./nginx.conf', import.meta.url));

export interface NginxSite {
  /** `listen` argument: "127.0.0.1:8080", "8080", "[::]:80". */
  listen: string;
  /** Absolute path of the built client. */
  clientDir: string;
  /** pid, error log and temp files go here. */
  runDir: string;
  /** Each instance's id and host:port, as nginx reaches it. */
  instances: { id: string; address: string }[];
}

/** The upstream blocks and the id map for `instances`. */
function upstreams(instances: NginxSite['instances']): string {
  const lines: string[] = ['  upstream tickwire_any {'];
  // A server that refuses a connection is skipped for 2 s, so joins go to the live ones.
  for (const i of instances) lines.push(`    server ${i.address} max_fails=1 fail_timeout=2s;`);
  lines.push('    keepalive 32;', '  }');
  for (const i of instances) lines.push(`  upstream tickwire_i_${i.id} {`, `    server ${i.address};`, '    keepalive 8;', '  }');
  lines.push('  map $instance $tickwire_known {', '    default 0;');
  for (const i of instances) lines.push(`    ${i.id} 1;`);
  lines.push('  }');
  return lines.join('\n');
}

/** server/deploy/nginx.conf with `site` filled in; throws on a bad id or an unfilled field. */
export function renderNginxConf(site: NginxSite, template = readFileSync(NGINX_TEMPLATE, 'utf8')): string {
  if (site.instances.length === 0) throw new Error('nginx: at least one instance is needed');
  for (const i of site.instances) {
    if (!INSTANCE_ID.test(i.id)) throw new Error(`nginx: instance id "${i.id}" is not a valid INSTANCE_ID`);
    if (!/^[\w.[\]:-]+:\d+$/.test(i.address)) throw new Error(`nginx: instance ${i.id} address "${i.address}" must be host:port`);
  }
  const fields: Record<string, string> = {
    RUN_DIR: resolve(site.runDir), LISTEN: site.listen, CLIENT_DIR: resolve(site.clientDir), UPSTREAMS: upstreams(site.instances),
  };
  const out = template.replace(/\{\{(\w+)\}\}/g, (m, k: string) => fields[k] ?? m);
  const left = /\{\{\w+\}\}/.exec(out);
  if (left) throw new Error(`nginx: template field ${left[0]} has no value`);
  return out;
}

export interface Nginx {
  proc: Proc;
  confPath: string;
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); res(true); });
    s.once('error', () => { s.destroy(); res(false); });
  });
}

/** Writes the config into `site.runDir` and runs nginx on it; resolves once it accepts connections on `port`. */
export async function startNginx(site: NginxSite, port: number, log?: LineLog): Promise<Nginx> {
  const bin = findBinary('nginx');
  if (!bin) throw new Error(missingLine('nginx'));
  mkdirSync(site.runDir, { recursive: true });
  const confPath = join(site.runDir, 'nginx.conf');
  writeFileSync(confPath, renderNginxConf(site));
  const proc = spawnProc('nginx', bin, ['-p', site.runDir, '-c', confPath, '-g', 'daemon off;'], { log });
  await waitUntil(`nginx on port ${port}`, () => portOpen(port), { proc, timeoutMs: 10_000, everyMs: 20 });
  // SIGTERM is nginx's fast shutdown; it closes every proxied socket.
  return { proc, confPath, stop: async () => { await proc.stop('SIGTERM', 3000); } };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const { values: v } = parseArgs({
      options: {
        listen: { type: 'string', default: '80' }, 'client-dir': { type: 'string', default: 'dist/client' },
        'run-dir': { type: 'string', default: '/var/lib/tickwire-nginx' }, instance: { type: 'string', multiple: true },
      },
    });
    const instances = (v.instance ?? []).map((s) => {
      const eq = s.indexOf('=');
      if (eq <= 0) throw new Error(`--instance ${s}: expected ID=HOST:PORT, e.g. a=10.0.0.1:8080`);
      return { id: s.slice(0, eq), address: s.slice(eq + 1) };
    });
    process.stdout.write(renderNginxConf({ listen: v.listen, clientDir: v['client-dir'], runDir: v['run-dir'], instances }));
  } catch (err) {
    console.error(`nginx-conf: ${(err as Error).message}`);
    process.exit(2);
  }
}
