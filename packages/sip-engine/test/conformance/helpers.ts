import { fileURLToPath } from 'node:url';
import { startEngine, type EngineService, type StartEngineOptions } from '@sbc/testkit';
import { newSrf, type TestSrf } from './srf.js';

/** The SDP the test apps answer with. */
export const APP_SDP = [
  'v=0',
  'o=app 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 9000 RTP/AVP 0',
  '',
].join('\r\n');

/** The path of one of this suite's sipp scenarios. */
export function scenario(name: string): string {
  return fileURLToPath(new URL(`./scenarios/${name}.xml`, import.meta.url));
}

export interface ConnectedApp {
  srf: TestSrf;
  close(): void;
}

/** A real drachtio-srf app connected to the engine (inbound mode), resolved once authenticated. */
export async function connectApp(
  engine: EngineService,
  setup: (srf: TestSrf) => void,
): Promise<ConnectedApp> {
  const srf = newSrf();
  setup(srf);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('srf did not connect within 5 s')), 5000);
    srf.on('connect', (err) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    });
    srf.on('error', () => undefined);
    srf.connect({ host: engine.host, port: engine.port, secret: engine.secret });
  });
  // srf sends its route verbs right after the authenticate answer: let them land.
  await new Promise((r) => setTimeout(r, 100));
  let open = true;
  return {
    srf,
    close: () => {
      if (open) srf.disconnect();
      open = false;
    },
  };
}

export async function withEngine(options?: StartEngineOptions): Promise<EngineService> {
  return startEngine({ loglevel: 'warning', ...options });
}
