// `npm start`: the local SBC stack on loopback, with demo data, until Ctrl-C.
// Data lives in .sbc/ (kept between runs). Ports can be moved with SBC_STACK_* variables.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { startMysql, startRedis, startRtpengine } from '@sbc/testkit';

const root = resolve(import.meta.dirname, '..');
const stateDir = resolve(root, '.sbc');
const port = (name, fallback) => Number(process.env[name] ?? fallback);
const log = (line) => console.log(`[sbc] ${line}`);

const services = [];
async function stopAll() {
  for (const service of services.reverse()) await service.stop().catch(() => undefined);
}

async function main() {
  mkdirSync(resolve(stateDir, 'redis'), { recursive: true });
  mkdirSync(resolve(stateDir, 'mysql'), { recursive: true });

  const redis = await startRedis({
    port: port('SBC_STACK_REDIS_PORT', 16379),
    dataDir: resolve(stateDir, 'redis'),
  });
  services.push(redis);
  log(`redis      127.0.0.1:${redis.port}`);

  const mysql = await startMysql({
    port: port('SBC_STACK_MYSQL_PORT', 13306),
    dataDir: resolve(stateDir, 'mysql'),
  });
  services.push(mysql);
  const db = await mysql.createDatabase({ name: 'jambones' });
  log(`mariadb    127.0.0.1:${mysql.port} database ${db.database} (user root, no password)`);

  const rtpengine = await startRtpengine({ ngPort: port('SBC_STACK_RTPENGINE_PORT', 22222) });
  services.push(rtpengine);
  log(`rtpengine  NG ${rtpengine.ngAddress}, media ports ${rtpengine.portMin}-${rtpengine.portMax}`);

  log('local services are up. The SBC apps are not built yet, so only the services run; Ctrl-C stops them.');
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log('stopping');
    void stopAll().then(() => process.exit(0));
  });
}

main().catch(async (err) => {
  console.error(`[sbc] could not start the stack: ${err.message}`);
  await stopAll();
  process.exit(1);
});
