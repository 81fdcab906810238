// Prints the failure table measured by the last run of test/failover.test.ts (`npm run bench` runs
// it with longer steady phases first: SBC_FAILOVER_BENCH=1).
import { readFileSync } from 'node:fs';

const { bench, rows } = JSON.parse(
  readFileSync(new URL('../.vitest/failover-table.json', import.meta.url), 'utf8'),
);
const header = [
  'failure',
  'load',
  's without service',
  'requests',
  '503 / 480',
  'dropped',
  'wrong',
  'data lost / left behind',
  'notes',
];
const lines = [
  `| ${header.join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...rows.map(
    (r) =>
      `| ${r.failure} | ${r.load ?? 'REGISTER'} | ${r.secondsWithoutService.toFixed(1)} | ${r.requests} | ${r.unavailable} | ${r.dropped} | ${r.wrong} | ${r.dataLost} | ${r.note} |`,
  ),
];
console.log(`\nFailures under REGISTER and call load (${bench ? 'benchmark run' : 'test run'}):\n`);
console.log(lines.join('\n'));
