// The packaging check: the tarball `npm pack` makes (after `npm run build`) carries the worker
// and the .wasm, and a Vite app that imports `capacitor-pos-sync` as any app would builds and
// runs the engine in Chromium. The app lives in a temporary directory; the package is
// unpacked into its node_modules (with this package's own @capacitor/core, so no network),
// and Vite is the one the plugin's tests already use.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { PLUGIN, launch, tmpDir, waitReady, within } from './run.mjs';

const WEB_FILES = ['dist/esm/web.js', 'dist/esm/web/worker.js', 'dist/esm/web/pos_sync_web.js', 'dist/esm/web/pos_sync_web_bg.wasm'];

const MAIN = `import { PosSync } from 'capacitor-pos-sync';
try {
  await PosSync.open({ storeId: 'S1', registerId: 'R9', deviceId: 'vite-till', databasePath: 'vite.db', serverUrl: 'http://127.0.0.1:9' });
  window.receipt = await PosSync.recordSale({ sale: { id: 'vite-sale-1', lines: [{ product_id: 'P', quantity: 1, unit_price: 100 }] } });
  window.stored = await PosSync.getSale({ saleId: 'vite-sale-1' });
} catch (e) {
  window.failure = e.code + ': ' + e.message;
}
window.pageReady = true;
`;

function pack(into) {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', into], { cwd: PLUGIN, encoding: 'utf8' }));
  const files = packed.files.map((f) => f.path);
  for (const f of WEB_FILES) assert.ok(files.includes(f), `the npm package lacks ${f} (run npm run build)`);
  return path.join(into, packed.filename);
}

function serve(dir) {
  const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
  const server = http.createServer((req, res) => {
    const file = path.join(dir, new URL(req.url, 'http://x').pathname.replace(/\/$/, '/index.html'));
    if (!file.startsWith(dir) || !fs.existsSync(file)) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  server.listen(0, '127.0.0.1');
  return server;
}

export async function viteApp() {
  const dir = tmpDir('vite');
  const app = path.join(dir, 'app');
  const modules = path.join(app, 'node_modules');
  fs.mkdirSync(path.join(modules, 'capacitor-pos-sync'), { recursive: true });
  fs.mkdirSync(path.join(modules, '@capacitor'), { recursive: true });
  execFileSync('tar', ['xzf', pack(dir), '-C', path.join(modules, 'capacitor-pos-sync'), '--strip-components=1']);
  fs.symlinkSync(path.join(PLUGIN, 'node_modules/@capacitor/core'), path.join(modules, '@capacitor/core'));
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'vite-till', private: true, type: 'module' }));
  fs.writeFileSync(path.join(app, 'index.html'), '<!doctype html><title>till</title><script type="module" src="/main.js"></script>\n');
  fs.writeFileSync(path.join(app, 'main.js'), MAIN);

  const vite = await import(pathToFileURL(path.join(PLUGIN, 'node_modules/vite/dist/node/index.js')).href);
  // Module workers (the plugin's worker imports the wasm-bindgen glue); top-level await in main.js.
  await within(vite.build({ root: app, logLevel: 'warn', configFile: false, worker: { format: 'es' }, build: { target: 'es2022' } }),
    120_000, 'vite build of the scratch app');
  const built = path.join(app, 'dist');
  const assets = fs.readdirSync(path.join(built, 'assets'));
  assert.ok(assets.some((f) => f.endsWith('.wasm')), `the Vite build has no .wasm: ${assets.join(', ')}`);

  const server = serve(built);
  await once(server, 'listening');
  const browser = await launch(path.join(dir, 'profile'));
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.log(`  [vite page error] ${e.message}`));
    await page.goto(`http://127.0.0.1:${server.address().port}/`, { timeout: 30_000 });
    await waitReady(page);
    const { failure, receipt, stored } = await page.evaluate(() => ({ failure: window.failure, receipt: window.receipt, stored: window.stored }));
    assert.equal(failure, undefined, `the Vite app's engine failed: ${failure}`);
    assert.equal(receipt.receiptNumber, 'S1-R9-000001', JSON.stringify(receipt));
    assert.equal(stored.sale.receiptNumber, receipt.receiptNumber);
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`browser: a Vite app importing capacitor-pos-sync records a sale (${assets.length} assets, wasm included)`);
}
