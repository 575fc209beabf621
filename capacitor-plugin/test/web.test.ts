/*
 * The web implementation where it cannot run (Node has no Web Worker or OPFS): every engine
 * call rejects with UNAVAILABLE and a clear message, while listeners can still be added and
 * removed. In Chromium it runs the engine: test/browser/ (make test-web).
 */
import { Capacitor } from '@capacitor/core';
import { describe, expect, it } from 'vitest';

import { PosSync } from '../src/index';
import { PosSyncWeb } from '../src/web';

const calls: [string, () => Promise<unknown>][] = [
  ['open', () => PosSync.open({ storeId: 'S1', registerId: 'R1', deviceId: 'd1' })],
  ['close', () => PosSync.close()],
  ['setToken', () => PosSync.setToken({ token: 't' })],
  ['recordSale', () => PosSync.recordSale({ sale: { id: 's1', lines: [{ product_id: 'p', quantity: 1 }] } })],
  ['recordStockAdjustment', () => PosSync.recordStockAdjustment({ adjustment: { id: 'a', product_id: 'p', quantity_delta: 1 } })],
  ['getSale', () => PosSync.getSale({ saleId: 's1' })],
  ['productByBarcode', () => PosSync.productByBarcode({ barcode: '1' })],
  ['productBySku', () => PosSync.productBySku({ sku: '1' })],
  ['productById', () => PosSync.productById({ productId: '1' })],
  ['searchProducts', () => PosSync.searchProducts({ query: 'a' })],
  ['currentPrice', () => PosSync.currentPrice({ productId: '1' })],
  ['createCustomer', () => PosSync.createCustomer({ customer: { id: 'c', name: 'n' } })],
  ['updateCustomer', () => PosSync.updateCustomer({ customer: { id: 'c', name: 'n' } })],
  ['getCustomer', () => PosSync.getCustomer({ customerId: 'c' })],
  ['searchCustomers', () => PosSync.searchCustomers({ query: 'a' })],
  ['syncNow', () => PosSync.syncNow()],
  ['getStatus', () => PosSync.getStatus()],
  ['getQueueStats', () => PosSync.getQueueStats()],
  ['retryFailedNow', () => PosSync.retryFailedNow()],
  ['listConflicts', () => PosSync.listConflicts()],
  ['resolveConflict', () => PosSync.resolveConflict({ conflictId: 'k', resolution: 'keep_local' })],
  ['checkConsistency', () => PosSync.checkConsistency()],
  ['integrityCheck', () => PosSync.integrityCheck()],
  ['setNetworkAvailable', () => PosSync.setNetworkAvailable({ available: true })],
  ['startAutoSync', () => PosSync.startAutoSync({ intervalMs: 60_000 })],
  ['stopAutoSync', () => PosSync.stopAutoSync()],
  ['cancelSync', () => PosSync.cancelSync()],
  ['enableBackgroundSync', () => PosSync.enableBackgroundSync()],
  ['disableBackgroundSync', () => PosSync.disableBackgroundSync()],
];

describe('on the web', () => {
  it('runs on the web platform in this test', () => {
    expect(Capacitor.getPlatform()).toBe('web');
  });

  it.each(calls)('%s rejects with UNAVAILABLE without Web Workers', async (_method, call) => {
    await expect(call()).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: 'PosSync on the web needs a browser with module Web Workers and OPFS (navigator.storage)',
    });
  });

  it('implements the native plugins\' one method, call()', () => {
    expect(typeof new PosSyncWeb().call).toBe('function');
  });

  it('accepts and removes listeners', async () => {
    const web = new PosSyncWeb();
    const seen: unknown[] = [];
    const handle = await web.addListener('syncStatus', (s) => seen.push(s));
    (web as unknown as { notifyListeners(e: string, d: unknown): void }).notifyListeners('syncStatus', { phase: 'idle' });
    await handle.remove();
    (web as unknown as { notifyListeners(e: string, d: unknown): void }).notifyListeners('syncStatus', { phase: 'offline' });
    expect(seen).toEqual([{ phase: 'idle' }]);

    const h1 = await PosSync.addListener('syncStatus', () => undefined);
    const h2 = await PosSync.addListener('conflict', () => undefined);
    await h1.remove();
    await expect(PosSync.removeAllListeners()).resolves.toBeUndefined();
    await h2.remove();
  });
});
