/**
 * `npm test` on a machine that has only Node: a nested vitest run of the suites that need
 * a system program (Chromium, redis-server, nginx, openssl), with those programs hidden
 * (PATH holds only `node`, no sbin fallback). It passes, each suite skipped, and ends with
 * one line naming what was skipped and the apt-get command that enables it; with CI set
 * the same run fails instead.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SUITES = ['test/browser.test.ts', 'test/tls.integration.test.ts', 'test/rolling-restart.integration.test.ts', 'test/drain.integration.test.ts', 'test/tokens.test.ts'];

describe('npm test on a machine with only Node', () => {
  const bin = mkdtempSync(join(tmpdir(), 'tickwire-only-node-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  const run = (ci: boolean) => {
    const env: NodeJS.ProcessEnv = { HOME: process.env.HOME, PATH: bin, TICKWIRE_SBIN_DIRS: '', CHROMIUM_PATH: join(bin, 'chromium') };
    if (ci) env.CI = 'true';
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', ...SUITES], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
  };

  it('passes with the suites skipped, and ends with one line naming them and the apt-get install command', () => {
    const { status, out } = run(false);
    expect(status, out).toBe(0);
    const line = out.split('\n').find((l) => l.startsWith('tickwire: skipped'));
    expect(line, out).toBe('tickwire: skipped 4 suite(s) that need chromium, nginx, openssl, redis-server '
      + '(browser.test.ts, drain.integration.test.ts, rolling-restart.integration.test.ts, tls.integration.test.ts); '
      + 'to run them: sudo apt-get install -y chromium nginx openssl redis-server');
    expect(out).toMatch(/tokens\.test\.ts.*2 tests/); // what needs nothing still ran
  }, 90_000);

  it('fails with CI set, naming the missing program', () => {
    const { status, out } = run(true);
    expect(status).not.toBe(0);
    expect(out).toMatch(/CI is set, so this suite must run, but chromium not found: install it with `sudo apt-get install -y chromium`/);
  }, 90_000);
});
