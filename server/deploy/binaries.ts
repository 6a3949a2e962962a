/**
 * The system programs a cluster (and its tests) run, found on PATH or in the sbin
 * directories Debian installs daemons to (not on every user's PATH), with the Debian
 * package that provides each: a missing one is named in one line with its install command.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const PACKAGES: Readonly<Record<string, string>> = {
  'redis-server': 'redis-server',
  nginx: 'nginx',
  chromium: 'chromium',
  openssl: 'openssl',
  curl: 'curl',
};

const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Absolute path of `name` on PATH or in the sbin directories (TICKWIRE_SBIN_DIRS, when set, instead of those), or null. */
export function findBinary(name: string): string | null {
  const sbin = process.env.TICKWIRE_SBIN_DIRS !== undefined ? process.env.TICKWIRE_SBIN_DIRS.split(delimiter).filter(Boolean) : SBIN;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...sbin];
  for (const dir of dirs) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** `sudo apt-get install -y …` for these programs' packages, each once, sorted. */
export function installCommand(names: readonly string[]): string {
  return `sudo apt-get install -y ${[...new Set(names.map((n) => PACKAGES[n] ?? n))].sort().join(' ')}`;
}

/** "nginx not found: install it with `sudo apt-get install -y nginx`". */
export function missingLine(name: string): string {
  return `${name} not found: install it with \`sudo apt-get install -y ${PACKAGES[name] ?? name}\``;
}
