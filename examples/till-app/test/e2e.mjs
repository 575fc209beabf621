// The till app end to end in Debian's headless Chromium, against the reference server on
// loopback, driven only through the app's screens (labels, buttons, the keyboard): sell three
// sales while the server is down and see them queued; start the server and sync; edit a
// customer on the till and on the server at once and resolve the conflict in the UI; then read
// the server's records and stock through its admin routes. Screenshots of each screen go to
// target/screenshots/; `--docs` also refreshes the small ones in docs/.
// Run by scripts/till-app.sh test (make test-till-app). Every wait names what it waits for.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { DEVICE, ReferenceServer, STORE, TOKEN, freePort, within } from '../../../capacitor-plugin/test/browser/harness.mjs';
import { launch, tmpDir } from '../../../capacitor-plugin/test/browser/run.mjs';
import { PRODUCTS, seed } from '../scripts/demo-data.mjs';
import { APP, serveApp } from '../scripts/serve.mjs';

const SHOTS = path.resolve(APP, '../../target/screenshots');
const DOCS = path.join(APP, 'docs');
const WAIT_MS = 30_000;
const byId = (id) => PRODUCTS.find((p) => p.id === id);

function step(text) {
  console.log(`till: ${text}`);
}

/** Waits until `predicate(arg)` holds in the page, failing with `what` after WAIT_MS. */
function waitIn(page, what, predicate, arg) {
  // Puppeteer's own timeout is later, so that the failure names what was awaited.
  return within(page.waitForFunction(predicate, { timeout: WAIT_MS + 5_000, polling: 'mutation' }, arg), WAIT_MS, what);
}

/** Waits until the element `selector` shows text matching `pattern`. */
function waitText(page, selector, pattern, what) {
  return waitIn(page, what, ([s, source]) => new RegExp(source).test(document.querySelector(s)?.textContent ?? ''), [selector, pattern.source]);
}

const text = (page, selector) => page.$eval(selector, (e) => e.textContent);
const stat = async (page, name) => Number(await text(page, `[data-stat="${name}"]`));

/** The input whose label says `label`, on the visible screen. */
async function input(page, label) {
  const handle = await page.evaluateHandle((l) => {
    const screen = document.querySelector('main > section:not([hidden])');
    const found = [...screen.querySelectorAll('label')].find((e) => e.querySelector('span')?.textContent === l);
    return found?.querySelector('input') ?? null;
  }, label);
  assert.ok(await handle.evaluate((e) => e !== null), `no input labelled '${label}' on the visible screen`);
  return handle;
}

async function typeInto(page, label, value) {
  const field = await input(page, label);
  await field.click({ clickCount: 3 });
  await field.evaluate((e) => { e.value = ''; });
  await field.type(value);
}

/** Clicks the visible screen's button with this text (or aria-label). */
async function press(page, name) {
  const button = await page.evaluateHandle((n) => {
    const screen = document.querySelector('main > section:not([hidden])');
    return [...screen.querySelectorAll('button')].find((b) => b.textContent === n || b.getAttribute('aria-label') === n) ?? null;
  }, name);
  assert.ok(await button.evaluate((b) => b !== null), `no button '${name}' on the visible screen`);
  await button.click();
}

async function screen(page, key, name) {
  // Alt+N switches screens: the keyboard path a cashier without a mouse uses.
  await page.keyboard.down('Alt');
  await page.keyboard.press(key);
  await page.keyboard.up('Alt');
  await waitIn(page, `the ${name} screen`, (n) => document.body.dataset.screen === n, name);
}

async function shot(page, name, docs) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  if (!docs) return;
  // The committed copies: the same 1024x768 layout at 0.75 scale, small enough for git.
  await page.setViewport({ width: 1024, height: 768, deviceScaleFactor: 0.75 });
  await page.screenshot({ path: path.join(DOCS, `${name}.png`) });
  await page.setViewport({ width: 1024, height: 768, deviceScaleFactor: 1 });
}

/** One checkout: scan `barcodes` (keystrokes + Enter, as a scanner), pick `searched` from the grid, pay. */
async function sell(page, { barcodes = [], searched = [] }) {
  for (const code of barcodes) {
    await typeInto(page, 'Barcode', code);
    await page.keyboard.press('Enter');
    await waitIn(page, `the product of barcode ${code} in the cart`, (c) => document.querySelector('.cart tbody')?.textContent.length > 0 && document.querySelector('input[name=barcode]').value === '', code);
  }
  for (const [query, id] of searched) {
    await typeInto(page, 'Search products', query);
    await waitIn(page, `the search '${query}' to show ${id}`, (p) => document.querySelector(`.grid [data-product="${p}"]`) !== null, id);
    const before = await page.$$eval('.cart tbody tr', (rows) => rows.length);
    await page.click(`.grid [data-product="${id}"]`);
    await waitIn(page, `${id} in the cart`, ([p, n]) => document.querySelector(`.cart tr[data-product="${p}"]`) !== null || document.querySelectorAll('.cart tbody tr').length > n, [id, before]);
  }
  await press(page, 'Checkout (cash)');
  await waitText(page, '.receipt', /^Receipt S1-R1-\d{6}$/, 'the receipt number of the sale');
  return (await text(page, '.receipt')).replace('Receipt ', '');
}

/** Presses Sync now and answers the outcome of that run (auto runs may finish meanwhile). */
async function syncNow(page, what) {
  const manual = '.sync tbody tr[data-trigger=manual]';
  const runs = await page.$$eval(manual, (rows) => rows.length);
  await press(page, 'Sync now');
  await waitIn(page, what, ([s, n]) => document.querySelectorAll(s).length > n, [manual, runs]);
  return page.$eval(manual, (row) => row.dataset.outcome);
}

export async function e2e({ docs = false } = {}) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const dir = tmpDir('till');
  const server = new ReferenceServer(dir, await freePort());
  await server.start();
  await seed(server, STORE);
  const app = await serveApp({ port: await freePort(), syncServer: `http://127.0.0.1:${server.port}`, quiet: true });
  const browser = await launch(path.join(dir, 'profile'));
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.log(`  [till page error] ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) console.log(`  [till page] ${m.text()}`); });
    await page.setViewport({ width: 1024, height: 768 });
    await within(page.goto(app.url, { timeout: WAIT_MS }), WAIT_MS, 'the till app to load');
    await waitIn(page, 'the till to open its engine', () => document.body.dataset.ready === 'true');
    assert.match(await text(page, '.banner'), /No device token/, 'without a token the till says it keeps sales locally');

    step('Settings: device token, store, register; the engine reopens with them');
    await screen(page, '4', 'settings');
    await typeInto(page, 'Device token (kept in memory only)', TOKEN);
    await typeInto(page, 'Device id', DEVICE);
    await typeInto(page, 'Store', STORE);
    await typeInto(page, 'Register', 'R1');
    // Wide, so that the two edits below count as simultaneous however slow this machine is.
    await typeInto(page, 'Conflict review window (ms)', '600000');
    await press(page, 'Save and connect');
    await waitText(page, '.settings [role=status]', /^Connected as S1-R1\.$/, 'the settings to be applied');
    await shot(page, 'settings', docs);

    step('first sync downloads the catalog and the customers');
    await screen(page, '3', 'sync');
    assert.equal(await syncNow(page, 'the first sync run'), 'completed');

    step('stop the server and take the network away: the indicator follows the events');
    await server.stop();
    await page.setOfflineMode(true);
    await waitText(page, '[data-indicator=online]', /^Offline$/, 'the indicator to say Offline');

    step('sell three sales offline: each gets its receipt number at once');
    await screen(page, '1', 'sell');
    await typeInto(page, 'Barcode', '0000000000000');
    await page.keyboard.press('Enter');
    await waitText(page, '.sell [role=alert]', /^No product has the barcode 0000000000000\.$/, 'the unknown barcode to be reported in words');
    const receipts = [
      await sell(page, { barcodes: [byId('p-cola').barcode, byId('p-cola').barcode] }),
      await sell(page, { searched: [['croiss', 'p-croissant']] }),
    ];
    await typeInto(page, 'Barcode', byId('p-espresso').barcode);
    await page.keyboard.press('Enter');
    await typeInto(page, 'Search products', 'water');
    await waitIn(page, 'the water in the grid', () => document.querySelector('.grid [data-product="p-water"]') !== null);
    await shot(page, 'sell', docs);
    receipts.push(await sell(page, { searched: [['water', 'p-water']] }));
    assert.deepEqual(receipts, ['S1-R1-000001', 'S1-R1-000002', 'S1-R1-000003']);

    step('the Sync screen shows the three sales queued (from events, no polling)');
    await screen(page, '3', 'sync');
    await waitIn(page, 'three changes waiting in the queue', () =>
      ['pending', 'syncing', 'failed'].reduce((n, s) => n + Number(document.querySelector(`[data-stat="${s}"]`).textContent), 0) === 3);
    assert.equal(await stat(page, 'synced'), 0);
    assert.match(await text(page, '[data-indicator=health]'), /3 waiting/);

    step('network back, server still down: a sync fails in words and keeps the three');
    await page.setOfflineMode(false);
    await waitText(page, '[data-indicator=online]', /^Online/, 'the indicator to say Online');
    const failed = await syncNow(page, 'the sync against the stopped server');
    assert.notEqual(failed, 'completed');
    await waitText(page, '.banner', /^Sync: .+/, 'the sync failure in the banner');
    await waitText(page, '[data-indicator=online]', /sync failing/, 'the indicator to say the sync is failing');
    assert.equal(await stat(page, 'pending') + await stat(page, 'failed'), 3, 'the three sales are still queued');
    await shot(page, 'sync-offline', false);

    step('start the server, sync: the queue drains');
    await server.start();
    await syncNow(page, 'the sync after the server came back');
    await waitIn(page, 'the three sales to be synced', () =>
      document.querySelector('[data-stat="synced"]').textContent === '3' && document.querySelector('[data-stat="pending"]').textContent === '0'
      && document.querySelector('[data-stat="failed"]').textContent === '0');

    step('edit a customer on the till and on the server at once: a conflict for a person');
    await screen(page, '2', 'customers');
    await typeInto(page, 'Find a customer', 'Ada');
    await waitIn(page, 'Ada in the customer search', () => document.querySelector('[data-customer="c-ada"]') !== null);
    await press(page, 'Edit Ada Lovelace');
    await typeInto(page, 'Phone', '555-0142');
    await typeInto(page, 'E-mail', 'ada@lovelace.example');
    await server.admin(`/admin/stores/${STORE}/records/customer`, {
      method: 'PUT', body: JSON.stringify([{ id: 'c-ada', name: 'Ada Lovelace', phone: '555-0199', email: 'ada@example.com' }]),
    });
    await press(page, 'Save customer');
    await waitText(page, '.customers [role=status]', /^Saved Ada Lovelace/, 'the customer edit to be saved');
    await shot(page, 'customers', docs);
    await screen(page, '3', 'sync');
    await syncNow(page, 'the sync that uploads the customer edit');
    await waitIn(page, 'the conflict on c-ada to be listed', () => document.querySelector('.conflict') !== null);
    assert.match(await text(page, '.conflict'), /phone/, 'the conflict names the contested field');
    assert.match(await text(page, '.conflict tr[data-field="phone"]'), /555-0142.*555-0199/);
    await shot(page, 'sync', docs);

    step("resolve it in the UI: the server's phone, the till's e-mail (merge)");
    await page.click(`.conflict input[aria-label="phone: use the server's value"]`);
    await press(page, 'Merge the picked fields');
    await waitIn(page, 'the conflict list to be empty', () => document.querySelector('[data-empty="conflicts"]') !== null);
    assert.match(await text(page, '.sync [role=status]'), /resolved \(merged\)/);

    step("the server's records and stock: each sale exactly once, the merged customer");
    const sales = await server.admin(`/admin/stores/${STORE}/records/sale`);
    assert.equal(sales.length, 3, JSON.stringify(sales.map((s) => s.entity_id)));
    assert.equal(new Set(sales.map((s) => s.entity_id)).size, 3, 'each sale once');
    assert.deepEqual(sales.map((s) => s.payload.receipt_number).sort(), receipts);
    const stock = Object.fromEntries((await server.admin(`/admin/stores/${STORE}/stock`)).map((l) => [l.product_id, l.quantity]));
    assert.deepEqual(stock, { 'p-cola': -2, 'p-croissant': -1, 'p-espresso': -1, 'p-water': -1 });
    const ada = (await server.admin(`/admin/stores/${STORE}/records/customer`)).find((c) => c.entity_id === 'c-ada');
    assert.deepEqual(ada.payload, { id: 'c-ada', name: 'Ada Lovelace', phone: '555-0199', email: 'ada@lovelace.example' });
  } catch (e) {
    const page = (await browser.pages()).at(-1);
    await page.screenshot({ path: path.join(SHOTS, 'failure.png') }).catch(() => {});
    const seen = await page.evaluate(() => `${document.querySelector('.banner')?.textContent}\n${document.querySelector('main > section:not([hidden])')?.innerText}`).catch(() => '');
    console.error(`till: the screen when it failed (target/screenshots/failure.png):\n${seen}`);
    throw e;
  } finally {
    await browser.close();
    await app.close();
    await server.stop();
  }
  console.log(`till: done; screenshots in ${path.relative(process.cwd(), SHOTS)}/`);
}

const started = Date.now();
e2e({ docs: process.argv.includes('--docs') }).then(() => {
  console.log(`till: passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exit(0);
}, (e) => {
  console.error(e);
  process.exit(1);
});
