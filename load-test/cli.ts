/**
 * `npm run load-test -- --url ws://127.0.0.1:8080/ws --bots N --rooms R --duration S …`
 * (flags: load-test/options.ts). Prints live progress on stderr, the report table on
 * stdout, and exits 1 with one line per missed gate, 2 on bad flags or a run error.
 */
import { type LoadTestOptions, parseCli, USAGE } from './options.ts';
import { checkGates, formatReport, type Report } from './report.ts';
import { runLoadTest } from './run.ts';

async function main(): Promise<number> {
  let opts: LoadTestOptions;
  try {
    opts = parseCli(process.argv.slice(2));
  } catch (err) {
    const msg = (err as Error).message;
    console.error(msg === USAGE ? USAGE : `load-test: ${msg}\n${USAGE}`);
    return 2;
  }
  let report: Report;
  try {
    report = await runLoadTest(opts);
  } catch (err) {
    console.error(`load-test: ${(err as Error).message}`);
    return 2;
  }
  console.log(formatReport(report));
  if (opts.json) console.log(`json report: ${opts.json}`);
  if (opts.html) console.log(`html report: ${opts.html}`);
  const missed = checkGates(report, opts.gates);
  for (const line of missed) console.error(line);
  return missed.length ? 1 : 0;
}

main().then((code) => process.exit(code));
