/**
 * vitest's global setup: the run's closing line about what was skipped. Suites that need
 * a system program skip themselves when it is missing (helpers/binaries.ts) and note it
 * in TICKWIRE_SKIP_FILE; once every suite has run, this names them and the one
 * `apt-get install` command that enables them all. With CI set they fail instead, so
 * there is nothing to say.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCommand } from '../server/deploy/binaries.ts';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'tickwire-skips-'));
  const file = join(dir, 'skips.jsonl');
  process.env.TICKWIRE_SKIP_FILE = file; // the test workers are forked after this, with it in their environment
  return () => {
    let lines: string[] = [];
    try {
      lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    } catch {
      // nothing was skipped
    }
    rmSync(dir, { recursive: true, force: true });
    if (lines.length === 0) return;
    const skips = lines.map((l) => JSON.parse(l) as { suite: string; missing: string[] });
    const suites = [...new Set(skips.map((s) => s.suite))].sort();
    const missing = [...new Set(skips.flatMap((s) => s.missing))].sort();
    process.stdout.write(`\ntickwire: skipped ${suites.length} suite(s) that need ${missing.join(', ')} (${suites.join(', ')}); `
      + `to run them: ${installCommand(missing)}\n`);
  };
}
