import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Scenarios that ship with the kit (packages/testkit/scenarios/<name>.xml). */
export type KitScenario = 'options-uac' | 'options-uas';

/** The absolute path of one of the kit's sipp scenarios. */
export function scenarioPath(name: KitScenario): string {
  const path = fileURLToPath(new URL(`../scenarios/${name}.xml`, import.meta.url));
  if (!existsSync(path)) throw new Error(`no sipp scenario ${name} in the test kit (${path})`);
  return path;
}
