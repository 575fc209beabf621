// The plugin's web build in Debian's headless Chromium, against the reference server on
// loopback (scripts/test-web.sh builds both first). `node run.mjs` runs the checks below;
// `node run.mjs --bench [--full]` runs the browser benchmark instead (bench.mjs).
//
// The page is served from a small origin of this file's own, which also forwards /api and
// /admin to the reference server (as a Vite dev-server proxy would; the reference server
// sends no CORS headers). Stopping the reference server makes the sync API unreachable.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import puppeteer from 'puppeteer-core';

import { TOKEN, STORE, within } from './harness.mjs';

// The puppeteer-free helpers live in harness.mjs (the till app's demo uses them without a browser).
export { ADMIN, TOKEN, STORE, ReferenceServer, freePort, until, within } from './harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const PLUGIN = path.resolve(HERE, '../..');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.map': 'application/json' };

const PAGE = `<!doctype html><meta charset="utf-8"><title>pos-sync web test</title>
<script type="importmap">{"imports": {"@capacitor/core": "/capacitor/index.js"}}</script>
<script type="module">
  import { createPosSync } from '/plugin/esm/client.js';
  import { PosSyncWeb } from '/plugin/esm/web.js';
  // As index.ts wires it: the public API over the web implementation of the native call().
  window.posSyncWeb = new PosSyncWeb();
  window.posSync = createPosSync(window.posSyncWeb);
  window.statusEvents = [];
  await window.posSync.addListener('syncStatus', (e) => window.statusEvents.push(e));
  window.pageReady = true;
</script>`;

/** The page's origin: static files, and /api + /admin forwarded to the reference server. */
export async function startOrigin(serverPort, onApi = () => {}) {
  const server = http.createServer((req, res) => {
    if (req.url.startsWith('/api/') || req.url.startsWith('/admin/')) {
      onApi(req.url);
      const up = http.request({ host: '127.0.0.1', port: serverPort, path: req.url, method: req.method, headers: req.headers },
        (answer) => { res.writeHead(answer.statusCode, answer.headers); answer.pipe(res); });
      up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
      req.pipe(up);
      return;
    }
    const url = new URL(req.url, 'http://x');
    let file;
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      return res.end();
    } else if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(PAGE);
    } else if (url.pathname.startsWith('/plugin/')) {
      file = path.join(PLUGIN, 'dist', url.pathname.slice('/plugin/'.length));
    } else if (url.pathname.startsWith('/capacitor/')) {
      file = path.join(PLUGIN, 'node_modules/@capacitor/core/dist', url.pathname.slice('/capacitor/'.length));
    }
    if (!file || !fs.existsSync(file)) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

/** Chromium on a profile that outlives it (OPFS persists in the profile). */
export async function launch(profile) {
  // protocolTimeout bounds every page.evaluate (a plugin call that never settles fails the run).
  return within(puppeteer.launch({ executablePath: CHROMIUM, headless: true, userDataDir: profile, protocolTimeout: 60_000,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] }), 60_000, 'Chromium to start');
}

export async function openPage(browser, url) {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error' || process.env.POS_SYNC_WEB_DEBUG) console.log(`  [page] ${m.text()}`); });
  page.on('pageerror', (e) => console.log(`  [page error] ${e.message}`));
  await page.goto(url, { timeout: 30_000 });
  await waitReady(page);
  return page;
}

export async function waitReady(page) {
  await within(page.waitForFunction('window.pageReady === true', { timeout: 30_000 }), 35_000, 'the test page to load the plugin');
}

/** A plugin call in the page: `{ ok }` or `{ err: { code, message, data } }`. */
export function call(page, method, options) {
  return page.evaluate(async (m, o) => {
    try {
      // Any name reaches the bridge as is (the client forwards every method), so a method
      // the plugin does not have gets the bridge's answer.
      return { ok: (await window.posSync[m](o)) ?? null };
    } catch (e) {
      return { err: { code: e.code, message: e.message, data: e.data ?? null } };
    }
  }, method, options);
}

export async function ok(page, method, options) {
  const r = await within(call(page, method, options), 60_000, `the plugin call ${method}`);
  assert.ok(!r.err, `${method}: ${JSON.stringify(r.err)}`);
  return r.ok;
}

export function sale(i) {
  const qty = 1 + (i % 3);
  return { id: `web-sale-${String(i).padStart(4, '0')}`, lines: [{ product_id: `P-${i % 7}`, quantity: qty, unit_price: 250 }],
    payments: [{ method: 'cash', amount: qty * 250 }], total: qty * 250, currency: 'EUR' };
}

export function openOptions(url, extra = {}) {
  return { storeId: STORE, registerId: 'R1', deviceId: 'web-till-1', databasePath: 'till.db', serverUrl: url,
    authToken: TOKEN, retryBaseMs: 50, ...extra };
}

async function main() {
  if (process.argv.includes('--bench')) {
    const { bench } = await import('./bench.mjs');
    return bench(process.argv.includes('--full'));
  }
  const { checks } = await import('./checks.mjs');
  await checks();
  const { viteApp } = await import('./vite-app.mjs');
  return viteApp();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  main().then(() => {
    console.log(`browser: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.exit(0);
  }, (e) => {
    console.error(e);
    process.exit(1);
  });
}

export const tmpDir = (name) => fs.mkdtempSync(path.join(os.tmpdir(), `pos-sync-${name}-`));
