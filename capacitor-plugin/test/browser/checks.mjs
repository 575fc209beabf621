// The browser suite: each step says what it proves. Run by run.mjs (scripts/test-web.sh).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  ReferenceServer, call, freePort, launch, ok, openOptions, openPage, sale, startOrigin, tmpDir, until, waitReady, within, STORE,
} from './run.mjs';

const GENERATED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/generated');

/**
 * The top-level fields of a record type as ts-rs wrote it (src/generated/NAME.ts): the names
 * that must be there, and the optional ones (`name?:`) that may be left out.
 */
function declaredFields(name) {
  const text = fs.readFileSync(path.join(GENERATED, `${name}.ts`), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const body = text.slice(text.indexOf('{', text.indexOf(`export interface ${name}`)) + 1);
  const required = [];
  const optional = [];
  let depth = 0;
  for (const m of body.matchAll(/[{}]|(\w+)(\??):/g)) {
    if (m[0] === '{') depth++;
    else if (m[0] === '}') depth--;
    else if (depth === 0) (m[2] ? optional : required).push(m[1]);
    if (depth < 0) break;
  }
  return { required, optional };
}

/** What the web build answered has exactly the fields the TypeScript contract declares. */
function assertShape(name, value) {
  const { required, optional } = declaredFields(name);
  assert.ok(required.length > 0, `${name}: no fields read from src/generated/${name}.ts`);
  const keys = Object.keys(value);
  for (const k of required) assert.ok(keys.includes(k), `${name}: the web build's answer lacks '${k}': ${JSON.stringify(value)}`);
  for (const k of keys) assert.ok(required.includes(k) || optional.includes(k), `${name}: '${k}' is not declared in src/generated/${name}.ts`);
}

function step(name) {
  console.log(`browser: ${name}`);
}

/** Every sale id the server holds, and how many times each. */
async function serverSales(server) {
  const records = await server.admin(`/admin/stores/${STORE}/records/sale`);
  const counts = new Map();
  for (const r of records) counts.set(r.entity_id, (counts.get(r.entity_id) ?? 0) + 1);
  return counts;
}

export async function checks() {
  const dir = tmpDir('web');
  const profile = `${dir}/profile`;
  const server = new ReferenceServer(dir, await freePort());
  let uploads = 0;
  const origin = await startOrigin(server.port, (url) => { if (url.startsWith('/api/sync/upload')) uploads++; });
  const receipts = new Map();

  let browser = await launch(profile);
  let page = await openPage(browser, origin.url);

  step('open with the server down; bad input gets the typed errors of the native bridge');
  const before = await call(page, 'recordSale', { sale: sale(0) });
  assert.equal(before.err?.code, 'NOT_OPEN', JSON.stringify(before));
  const opened = await ok(page, 'open', openOptions(origin.url, { uploadBatchSize: 5 }));
  assert.equal(typeof opened, 'object');
  for (const [method, options, expected] of [
    ['recordSale', { sale: [1, 2] }, "'sale' must be an object"],
    ['recordSale', { sale: { id: 's1' } }, 'lines'],
    ['searchProducts', { query: 'co', limit: 5000 }, 'from 1 to 1000'],
    ['getSale', { saleID: 's1' }, 'saleID'],
    ['resolveConflict', { conflictId: 'c', resolution: 'mine' }, 'keep_local'],
    ['startAutoSync', { intervalMs: 10 }, "'intervalMs'"],
  ]) {
    const r = await call(page, method, options);
    assert.equal(r.err?.code, 'INVALID_INPUT', `${method} ${JSON.stringify(options)}: ${JSON.stringify(r)}`);
    assert.ok(r.err.message.includes(expected), `${method}: ${r.err.message}`);
  }
  assert.equal((await call(page, 'noSuchMethod', {})).err?.code, 'UNIMPLEMENTED');
  const background = await call(page, 'enableBackgroundSync', {});
  assert.equal(background.err?.code, 'NOT_CONFIGURED', JSON.stringify(background));
  assert.match(background.err.message, /startAutoSync/);
  assert.equal((await ok(page, 'getQueueStats')).pending, 0, 'refused calls queued nothing');

  step('the answers of the web build have the shapes of the TypeScript contract (src/generated)');
  assertShape('QueueStats', await ok(page, 'getQueueStats'));
  assertShape('SyncStatus', await ok(page, 'getStatus'));

  step('record 20 sales while the server is down; a sync fails without losing any');
  for (let i = 1; i <= 20; i++) {
    const r = await ok(page, 'recordSale', { sale: sale(i) });
    if (i === 1) assertShape('SaleReceipt', r);
    assert.match(r.receiptNumber, /^S1-R1-\d{6}$/);
    receipts.set(r.saleId, r.receiptNumber);
  }
  assert.equal(new Set(receipts.values()).size, 20, 'receipt numbers are unique');
  const down = await ok(page, 'syncNow');
  assertShape('SyncReport', down);
  assert.equal(down.uploaded, 0, JSON.stringify(down));
  assert.ok(down.error, 'the failed sync says why');

  step('a second tab of the app gets a clear error: one engine per database');
  const second = await openPage(browser, origin.url);
  const refused = await call(second, 'open', openOptions(origin.url));
  assert.equal(refused.err?.code, 'DATABASE', JSON.stringify(refused));
  assert.match(refused.err.message, /another tab/);
  await second.close();

  step('reload the page: the sales and their receipt numbers are still there');
  await within(page.reload(), 30_000, 'the page to reload');
  await waitReady(page);
  await ok(page, 'open', openOptions(origin.url, { uploadBatchSize: 5 }));
  for (const [id, receipt] of receipts) {
    const { sale: stored } = await ok(page, 'getSale', { saleId: id });
    assert.equal(stored?.receiptNumber, receipt, id);
  }

  step('a recorded sale survives the browser being killed right after recordSale resolves');
  const last = await ok(page, 'recordSale', { sale: sale(21) });
  receipts.set(last.saleId, last.receiptNumber);
  browser.process().kill('SIGKILL');
  await once(browser);
  browser = await launch(profile);
  page = await openPage(browser, origin.url);
  await ok(page, 'open', openOptions(origin.url, { uploadBatchSize: 5 }));
  assert.equal((await ok(page, 'getSale', { saleId: last.saleId })).sale?.receiptNumber, last.receiptNumber);
  assert.equal((await ok(page, 'getQueueStats')).pending + (await ok(page, 'getQueueStats')).failed, 21);

  step('start the server, sync: every sale is on the server exactly once; events arrive');
  await server.start();
  await ok(page, 'setNetworkAvailable', { available: true });
  let report;
  for (let i = 0; i < 10; i++) {
    report = await ok(page, 'syncNow');
    if (!report.moreWorkPending && (await ok(page, 'getQueueStats')).synced === 21) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal((await ok(page, 'getQueueStats')).synced, 21, JSON.stringify(report));
  let onServer = await serverSales(server);
  assert.equal(onServer.size, 21);
  for (const id of receipts.keys()) assert.equal(onServer.get(id), 1, id);
  const events = await page.evaluate(() => window.statusEvents);
  assert.ok(events.length > 0, 'syncStatus events reach the listener');
  assert.equal(typeof events.at(-1).online, 'boolean', JSON.stringify(events.at(-1)));

  step('kill the browser in the middle of a sync, start it again on the same profile: converge');
  for (let i = 100; i < 300; i++) receipts.set(sale(i).id, (await ok(page, 'recordSale', { sale: sale(i) })).receiptNumber);
  const seen = uploads;
  // Its promise rejects when the browser is killed under it: expected.
  page.evaluate(() => window.posSync.syncNow()).catch(() => {});
  await until(() => uploads >= seen + 3, 60_000, 'three upload requests of the sync to be killed');
  browser.process().kill('SIGKILL');
  await once(browser);
  const partial = (await serverSales(server)).size;
  assert.ok(partial < receipts.size, `killed mid-sync (${partial} of ${receipts.size} on the server)`);
  browser = await launch(profile);
  page = await openPage(browser, origin.url);
  await ok(page, 'open', openOptions(origin.url, { uploadBatchSize: 5 }));
  for (let i = 0; i < 100 && (await ok(page, 'getQueueStats')).synced < receipts.size; i++) await ok(page, 'syncNow');
  const stats = await ok(page, 'getQueueStats');
  assert.equal(stats.synced, receipts.size, JSON.stringify(stats));
  onServer = await serverSales(server);
  assert.equal(onServer.size, receipts.size);
  for (const id of receipts.keys()) assert.equal(onServer.get(id), 1, id);
  const check = await ok(page, 'integrityCheck');
  assert.equal(check.ok, true, JSON.stringify(check));

  await browser.close();
  await server.stop();
  origin.server.close();
  console.log(`browser: ${receipts.size} sales recorded offline, each on the server once`);
}

function once(browser) {
  return within(new Promise((resolve) => {
    const child = browser.process();
    if (child.exitCode !== null || child.signalCode) return resolve();
    child.once('exit', resolve);
  }), 30_000, 'the killed Chromium to exit');
}
