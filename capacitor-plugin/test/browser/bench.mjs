// The browser benchmark (make bench → scripts/test-web.sh --bench --full): in one Chromium
// run, the engine on OPFS beside raw rusqlite on the same OPFS VFS writing the same rows
// (web/src/bench.rs), and the .wasm size. Prints the rows; with --full it puts them into
// docs/benchmarks.md as the section "In a browser" (replaced on each run, before "Notes";
// make bench runs this after benches/e2e.rs has written the rest of the page).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ReferenceServer, freePort, launch, ok, openOptions, openPage, sale, startOrigin, tmpDir, STORE } from './run.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function product(i) {
  const id = `P-${String(i).padStart(6, '0')}`;
  return { id, sku: `SKU-${String(i).padStart(7, '0')}`, barcode: String(4_000_000_000_000 + i),
    name: `Product ${i} ${['Coffee', 'Milk', 'Bread', 'Apple', 'Tea'][i % 5]}`, price: 100 + (i % 900), tax_rate: 0.19 };
}

function benchStep(page, name, db, rows) {
  return page.evaluate((n, d, r) => window.posSyncWeb.benchmark(n, d, r), name, db, rows);
}

export async function bench(full) {
  const sales = full ? 1000 : 200;
  const products = full ? 100_000 : 10_000;
  const dir = tmpDir('web-bench');
  const server = new ReferenceServer(dir, await freePort());
  await server.start();
  const origin = await startOrigin(server.port);
  const browser = await launch(`${dir}/profile`);
  const page = await openPage(browser, origin.url);
  await ok(page, 'open', openOptions(origin.url, { downloadPageSize: 1000 }));
  const run = Date.now();

  const saleDocs = Array.from({ length: sales }, (_, i) => sale(i));
  const engineSales = await benchStep(page, 'engineRecordSales', '', saleDocs);
  const rawSales = await benchStep(page, 'rawRecordSales', `raw-sales-${run}.db`, saleDocs);

  const catalog = Array.from({ length: products }, (_, i) => product(i));
  for (let i = 0; i < catalog.length; i += 5000) {
    await server.admin(`/admin/stores/${STORE}/records/product`, { method: 'PUT', body: JSON.stringify(catalog.slice(i, i + 5000)) });
  }
  const started = performance.now();
  let downloaded = 0;
  for (let i = 0; i < 50 && downloaded < products; i++) downloaded += (await ok(page, 'syncNow')).downloaded;
  const engineApply = performance.now() - started;
  if (downloaded < products) throw new Error(`downloaded ${downloaded} of ${products} products`);
  const rawApply = await benchStep(page, 'rawUpsertProducts', `raw-products-${run}.db`, catalog);
  await browser.close();
  await server.stop();
  origin.server.close();

  const wasm = path.join(ROOT, 'capacitor-plugin/dist/esm/web/pos_sync_web_bg.wasm');
  const bytes = fs.statSync(wasm).size;
  const rate = (n, ms) => n / (ms / 1000);
  const rows = [
    ['record a sale on OPFS (synchronous=FULL), sales/s', rate(sales, engineSales), rate(sales, rawSales), 0.5],
    [`${products.toLocaleString('en')}-product download + apply (1,000 per page), products/s`, rate(products, engineApply), rate(products, rawApply), 0.5],
  ];
  const chromium = (await import('node:child_process')).execFileSync('/usr/bin/chromium', ['--version']).toString().trim();
  let md = `## In a browser (WebAssembly, OPFS)\n\n*Written by \`make bench-web\` (capacitor-plugin/test/browser/bench.mjs) on ${new Date().toISOString().slice(0, 10)}, ${chromium}, headless; ${full ? 'full' : 'quick'} sizes.*\n\n`;
  md += '| what | pos-sync | baseline (raw rusqlite, same OPFS VFS, same rows) | ratio | target |\n|---|---:|---:|---:|---:|\n';
  for (const [what, mine, base, target] of rows) {
    const ratio = mine / base;
    md += `| ${what} | ${mine.toFixed(0)} | ${base.toFixed(0)} | ${ratio.toFixed(2)}× | ≥ ${target}× ${ratio >= target ? '(met)' : '(NOT met)'} |\n`;
  }
  md += `| .wasm size (release, opt-level s, before wasm-opt) | ${(bytes / 1024).toFixed(0)} KiB | | | |\n\n`;
  md += 'The engine\'s sales go through the plugin bridge in the worker (JSON parse, validation, receipt number, canonical JSON, checksum, sale row and queue row in one transaction); the raw baseline inserts the same sale row and queue row in one transaction. The download is `syncNow` against the reference server on loopback (HTTP through the page origin, checksums, pre-images, audit trail, search index); the baseline upserts the same rows 1,000 per transaction. Both sides commit with synchronous=FULL, each commit flushing the OPFS access handle.\n';
  console.log(md);
  if (full) writeSection(path.join(ROOT, 'docs/benchmarks.md'), md);
}

function writeSection(file, section) {
  const TITLE = '## In a browser (WebAssembly, OPFS)';
  let page = fs.readFileSync(file, 'utf8');
  const start = page.indexOf(TITLE);
  if (start >= 0) {
    const next = page.indexOf('\n## ', start + TITLE.length);
    page = page.slice(0, start) + (next >= 0 ? page.slice(next + 1) : '');
  }
  const notes = page.indexOf('## Notes');
  page = notes >= 0 ? `${page.slice(0, notes)}${section}\n${page.slice(notes)}` : `${page.trimEnd()}\n\n${section}`;
  fs.writeFileSync(file, page);
}
