// The browser suite: each step says what it proves. Run by run.mjs (scripts/test-web.sh).
import assert from 'node:assert/strict';

import { ReferenceServer, call, freePort, launch, ok, openOptions, openPage, sale, startOrigin, tmpDir, STORE } from './run.mjs';

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

  step('record 20 sales while the server is down; a sync fails without losing any');
  for (let i = 1; i <= 20; i++) {
    const r = await ok(page, 'recordSale', { sale: sale(i) });
    assert.match(r.receiptNumber, /^S1-R1-\d{6}$/);
    receipts.set(r.saleId, r.receiptNumber);
  }
  assert.equal(new Set(receipts.values()).size, 20, 'receipt numbers are unique');
  const down = await ok(page, 'syncNow');
  assert.equal(down.uploaded, 0, JSON.stringify(down));
  assert.ok(down.error, 'the failed sync says why');

  step('a second tab of the app gets a clear error: one engine per database');
  const second = await openPage(browser, origin.url);
  const refused = await call(second, 'open', openOptions(origin.url));
  assert.equal(refused.err?.code, 'DATABASE', JSON.stringify(refused));
  assert.match(refused.err.message, /another tab/);
  await second.close();

  step('reload the page: the sales and their receipt numbers are still there');
  await page.reload();
  await page.waitForFunction('window.pageReady === true');
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
  const events = await page.evaluate(() => window.statusEvents.map((e) => e.data));
  assert.ok(events.length > 0, 'syncStatus events reach the listener');
  assert.equal(typeof JSON.parse(events.at(-1)).online, 'boolean', events.at(-1));

  step('kill the browser in the middle of a sync, start it again on the same profile: converge');
  for (let i = 100; i < 300; i++) receipts.set(sale(i).id, (await ok(page, 'recordSale', { sale: sale(i) })).receiptNumber);
  const seen = uploads;
  void page.evaluate(() => window.posSync.syncNow());
  while (uploads < seen + 3) await new Promise((r) => setTimeout(r, 5));
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
  return new Promise((resolve) => {
    const child = browser.process();
    if (child.exitCode !== null || child.signalCode) return resolve();
    child.once('exit', resolve);
  });
}
