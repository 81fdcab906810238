// Serves the web phone (index.html, phone.js and SIP.js's ES modules from node_modules) over HTTPS,
// with `config.json` holding the form's defaults. Used by the browser tests and by `npm start`.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const sipJs = fileURLToPath(new URL('../node_modules/sip.js/lib/', import.meta.url));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json' };

/** Where a URL path's file is, or undefined (only the page, its script and SIP.js's lib are served). */
function fileOf(path) {
  if (path === '/' || path === '/index.html') return join(here, 'index.html');
  if (path === '/phone.js') return join(here, 'phone.js');
  if (path.startsWith('/sip.js/')) {
    const rest = normalize(path.slice('/sip.js/'.length));
    if (rest.startsWith('..') || !rest.endsWith('.js')) return undefined;
    return join(sipJs, rest);
  }
  return undefined;
}

/**
 * @param {{ host?: string, port?: number, key: string | Buffer, cert: string | Buffer, config?: object }} options
 * @returns {Promise<{ url: string, port: number, close(): Promise<void> }>}
 */
export async function startPageServer(options) {
  const host = options.host ?? '127.0.0.1';
  const server = createServer({ key: options.key, cert: options.cert }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://page').pathname;
    if (path === '/config.json') {
      res.writeHead(200, { 'content-type': TYPES['.json'] }).end(JSON.stringify(options.config ?? {}));
      return;
    }
    const file = fileOf(path);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (body) =>
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const port = server.address().port;
  return {
    url: `https://${host}:${port}/`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
