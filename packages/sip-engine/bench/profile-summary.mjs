// Top functions by self time of a V8 .cpuprofile (node --cpu-prof), with file:line, plus self time per
// file. Usage: node bench/profile-summary.mjs <file.cpuprofile> [top=20]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

function shortUrl(url) {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  const pnpm = path.lastIndexOf('/node_modules/');
  if (pnpm >= 0) return path.slice(pnpm + '/node_modules/'.length);
  const dist = path.indexOf('/sip-engine/dist/');
  if (dist >= 0) return path.slice(dist + '/sip-engine/'.length);
  return path;
}

/** Self time (ms) per function and per file; `nodes`, `samples` and `timeDeltas` as V8 writes them. */
export function summarizeProfile(profile, top = 20) {
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const byFunction = new Map();
  const byFile = new Map();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    total += us;
    if (functionName === '(idle)') idle += us;
    const file = shortUrl(url);
    const key = `${functionName || '(anonymous)'}  ${file ? `${file}:${lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const fileKey = file || functionName;
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us) => ((100 * us) / busy).toFixed(1).padStart(5);
  const ms = (us) => (us / 1000).toFixed(0).padStart(6);
  const lines = [
    `sampled ${(total / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms; % of busy time`,
    '',
    '  self ms     %  function  file:line',
  ];
  const sorted = [...byFunction].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]);
  for (const [key, us] of sorted.slice(0, top)) lines.push(`${ms(us)} ${pct(us)}  ${key}`);
  lines.push('', '  self ms     %  file');
  const files = [...byFile].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]);
  for (const [file, us] of files.slice(0, top)) lines.push(`${ms(us)} ${pct(us)}  ${file}`);
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, top = '20'] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(summarizeProfile(JSON.parse(readFileSync(file, 'utf8')), Number(top)));
}
