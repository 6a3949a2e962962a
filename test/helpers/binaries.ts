/**
 * Suites that need a system program (redis-server, nginx, chromium, openssl): skipped
 * with one line naming the missing Debian package on a machine without it, and failed
 * instead when CI is set (`.ci/run` installs them all, so a missing one there is a bug).
 */
import { appendFileSync } from 'node:fs';
import { basename } from 'node:path';
import { findBinary, missingLine } from '../../server/deploy/binaries.ts';

/**
 * True when every program is present; false (after one line on stderr) when one is
 * missing; throws under CI. A skip is also noted in TICKWIRE_SKIP_FILE, from which
 * test/global-setup.ts prints the run's one closing line.
 */
export function haveBinaries(...names: string[]): boolean {
  const missing = names.filter((n) => !findBinary(n));
  if (missing.length === 0) return true;
  const line = missing.map(missingLine).join('; ');
  if (process.env.CI) throw new Error(`CI is set, so this suite must run, but ${line}`);
  process.stderr.write(`skipped: ${line}\n`);
  const file = process.env.TICKWIRE_SKIP_FILE;
  if (file) appendFileSync(file, `${JSON.stringify({ suite: callerSuite(), missing })}\n`);
  return false;
}

/** The test file that called haveBinaries, from the stack. */
function callerSuite(): string {
  const at = (new Error().stack ?? '').split('\n').find((l) => /\.test\.ts/.test(l));
  const m = at && /([^\s/(]+\.test\.ts)/.exec(at);
  return m ? basename(m[1]) : 'a suite';
}
