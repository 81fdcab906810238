/**
 * Headless Debian Chromium (/usr/bin/chromium) driven by playwright-core, with Chromium's fake
 * microphone, loopback ICE candidates and the test's self-signed certificate accepted. A failing
 * step leaves a screenshot of the page in a temp dir that the failure message names.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.SBC_TEST_CHROMIUM ?? '/usr/bin/chromium';

export interface Browser {
  page: Page;
  /** Runs `step`; on failure, screenshots the page and rethrows with the screenshot's path. */
  step<T>(name: string, step: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'sbc-webrtc-chromium-'));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    ignoreHTTPSErrors: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // The throwaway certificate of the page and of the engine's WSS listener.
      '--ignore-certificate-errors',
      // A fake microphone (a beep), and getUserMedia allowed without a prompt.
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      // ICE host candidates on 127.0.0.1: Chromium leaves loopback out unless told.
      '--allow-loopback-in-peer-connection',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const console: string[] = [];
  page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console.push(`pageerror: ${e.message}`));
  let shots: string | undefined;
  return {
    page,
    async step(name, step) {
      try {
        return await step();
      } catch (err) {
        shots ??= mkdtempSync(join(tmpdir(), 'sbc-webrtc-screenshots-'));
        const file = join(shots, `${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
        const saved = await page
          .screenshot({ path: file, fullPage: true })
          .then(() => `screenshot of the page: ${file}`)
          .catch((e: Error) => `no screenshot (${e.message})`);
        const error = err instanceof Error ? err : new Error(String(err));
        error.message = `${error.message}\n${saved}\nbrowser console:\n${console.slice(-80).join('\n')}`;
        throw error;
      }
    },
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
