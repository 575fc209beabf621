// `make demo-web`: the reference server with the demo catalog and customers, and the built
// till app in front of it. Prints the URL and the device token to type into Settings;
// Ctrl-C stops both. The server's database is kept in target/demo-web/ (the till's own is in
// the browser's OPFS, so both sides keep their history between runs).
import fs from 'node:fs';
import path from 'node:path';

import { DEVICE, ReferenceServer, STORE, TOKEN, freePort } from '../../../capacitor-plugin/test/browser/harness.mjs';
import { seed } from './demo-data.mjs';
import { APP, serveApp } from './serve.mjs';

const dir = path.resolve(APP, '../../target/demo-web');
fs.mkdirSync(dir, { recursive: true });
const server = new ReferenceServer(dir, await freePort());
await server.start();
await seed(server, STORE);
const app = await serveApp({ port: Number(process.env.PORT ?? 5173), syncServer: `http://127.0.0.1:${server.port}`, quiet: true });

console.log(`
pos-sync till demo
  open      ${app.url}   (Chromium or Chrome; OPFS needs a recent browser)
  Settings  device token ${TOKEN}, device id ${DEVICE}, store ${STORE}, any register
  server    http://127.0.0.1:${server.port} (reference server, demo catalog and customers)
Ctrl-C stops both.`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await app.close();
  await server.stop();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
