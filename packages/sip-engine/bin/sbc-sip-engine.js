#!/usr/bin/env node
// The `sbc-sip-engine` command. This file is in the repository (not built), so pnpm can link the
// bin on a fresh clone before anything is compiled; it runs the compiled CLI, dist/cli.js.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('sbc-sip-engine: not built yet (run `pnpm build` at the repository root)\n');
  process.exit(1);
}
await import(cli.href);
