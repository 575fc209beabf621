// Serves the built app (dist/) with Vite's preview server, /api proxied to the sync server
// (vite.config.ts), for `make demo-web` and the end-to-end test. Preview serves .wasm as
// application/wasm, and 127.0.0.1 is a secure context, which OPFS needs.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { preview } from 'vite';

export const APP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The preview server on 127.0.0.1:`port`, proxying /api to `syncServer`; `quiet` drops proxy errors (server down on purpose). */
export async function serveApp({ port, syncServer, quiet = false }) {
  process.env.POS_SYNC_SERVER = syncServer;
  const logger = {
    hasWarned: false,
    info: (m) => { if (!quiet) console.log(m); },
    warn: (m) => console.warn(m),
    warnOnce: (m) => console.warn(m),
    error: (m) => { if (!(quiet && /proxy error/.test(m))) console.error(m); },
    clearScreen: () => {},
    hasErrorLogged: () => false,
  };
  const server = await preview({ root: APP, customLogger: logger, preview: { host: '127.0.0.1', port, strictPort: true } });
  return { server, url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}
