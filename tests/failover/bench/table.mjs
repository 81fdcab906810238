// Prints the failure table measured by the last run of test/failover.test.ts (`npm run bench` runs
// it with longer steady phases first: SBC_FAILOVER_BENCH=1).
import { readFileSync } from 'node:fs';

const { bench, rows } = JSON.parse(
  readFileSync(new URL('../.vitest/failover-table.json', import.meta.url), 'utf8'),
);
const header = [
  'failure',
  's without service',
  'requests',
  '503 / 480',
  'dropped',
  'wrong',
  'data lost',
  'notes',
];
const lines = [
  `| ${header.join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...rows.map(
    (r) =>
      `| ${r.failure} | ${r.secondsWithoutService.toFixed(1)} | ${r.requests} | ${r.unavailable} | ${r.dropped} | ${r.wrong} | ${r.dataLost} | ${r.note} |`,
  ),
];
console.log(`\nFailures under REGISTER load (${bench ? 'benchmark run' : 'test run'}):\n`);
console.log(lines.join('\n'));
