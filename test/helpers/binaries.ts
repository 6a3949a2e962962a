/**
 * Suites that need a system program (redis-server, nginx, chromium, openssl): skipped
 * with one line naming the missing Debian package on a machine without it, and failed
 * instead when CI is set (`.ci/run` installs them all, so a missing one there is a bug).
 */
import { findBinary, missingLine } from '../../server/deploy/binaries.ts';

/** True when every program is present; false (after one line on stderr) when one is missing; throws under CI. */
export function haveBinaries(...names: string[]): boolean {
  const missing = names.filter((n) => !findBinary(n));
  if (missing.length === 0) return true;
  const line = missing.map(missingLine).join('; ');
  if (process.env.CI) throw new Error(`CI is set, so this suite must run, but ${line}`);
  process.stderr.write(`skipped: ${line}\n`);
  return false;
}
