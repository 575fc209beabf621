/*
 * The JavaScript layer: argument checks, JSON documents as text on the way in and objects on
 * the way out, and listener plumbing, against a fake native plugin that records what crossed
 * the bridge.
 */
import type { PluginListenerHandle } from '@capacitor/core';
import { beforeEach, describe, expect, it } from 'vitest';

import { createPosSync, DEFAULT_LIMIT } from '../src/client';
import type { PosSyncPlugin, SyncStatus } from '../src/definitions';
import type { NativePosSyncPlugin, WireConflict, WireCustomer, WireEventName, WireEvents, WireProduct } from '../src/native';

type Call = { method: string; args: unknown[] };

/** A native plugin that answers from `answers` and keeps the calls and listeners it saw. */
class FakeNative {
  calls: Call[] = [];
  answers: Record<string, unknown> = {};
  listeners: { event: WireEventName; fn: (e: unknown) => void; removed: boolean }[] = [];

  emit<E extends WireEventName>(event: E, payload: WireEvents[E]): void {
    for (const l of this.listeners) if (l.event === event && !l.removed) l.fn(payload);
  }

  asPlugin(): NativePosSyncPlugin {
    return new Proxy({} as NativePosSyncPlugin, {
      get: (_t, method: string) => {
        if (method === 'addListener') {
          return async (event: WireEventName, fn: (e: unknown) => void): Promise<PluginListenerHandle> => {
            this.calls.push({ method, args: [event] });
            const entry = { event, fn, removed: false };
            this.listeners.push(entry);
            return { remove: async () => void (entry.removed = true) };
          };
        }
        if (method === 'removeAllListeners') {
          return async () => {
            this.calls.push({ method, args: [] });
            for (const l of this.listeners) l.removed = true;
          };
        }
        return async (...args: unknown[]) => {
          this.calls.push({ method, args });
          const answer = this.answers[method];
          if (answer instanceof Error) throw answer;
          return answer;
        };
      },
    });
  }
}

const wireProduct: WireProduct = {
  id: 'p1',
  sku: 'SKU-1',
  barcode: '4006381333931',
  name: 'Espresso',
  json: '{"id":"p1","name":"Espresso","price":250,"tags":["hot"]}',
  version: 3,
};

const wireCustomer: WireCustomer = {
  id: 'c1',
  name: 'Ada',
  phone: null,
  email: 'ada@example.com',
  json: '{"id":"c1","name":"Ada","email":"ada@example.com"}',
  version: 0,
  pendingUpload: true,
  updatedHlc: '113249439252889601',
};

const wireConflict: WireConflict = {
  conflictId: 'k1',
  changeId: 'ch1',
  entityType: 'customer',
  entityId: 'c1',
  localJson: '{"id":"c1","name":"Ada L."}',
  serverJson: 'null',
  serverVersion: 4,
  localHlc: '113249439252889601',
  serverHlc: '113249439252889700',
  reason: 'both sides edited name within 2 s',
  createdAtMs: 1_760_000_000_000,
};

async function rejection(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected the promise to reject');
}

let fake: FakeNative;
let PosSync: PosSyncPlugin;

beforeEach(() => {
  fake = new FakeNative();
  PosSync = createPosSync(fake.asPlugin());
});

describe('documents cross as JSON text', () => {
  it('recordSale sends the sale as JSON text, exactly as the app wrote it', async () => {
    fake.answers.recordSale = { saleId: 's1', receiptNumber: 'S1-R1-000001', changeId: 'ch', hlc: '1' };
    const sale = { id: 's1', lines: [{ product_id: 'p1', quantity: 2, unit_price: 2.5 }], total: 5.0, note: 'ü' };
    const receipt = await PosSync.recordSale({ sale });
    expect(receipt.receiptNumber).toBe('S1-R1-000001');
    expect(fake.calls).toEqual([{ method: 'recordSale', args: [{ saleJson: JSON.stringify(sale) }] }]);
  });

  it('stock adjustments, customers and merged resolutions too', async () => {
    fake.answers.createCustomer = wireCustomer;
    fake.answers.updateCustomer = wireCustomer;
    fake.answers.resolveConflict = { customer: wireCustomer };
    await PosSync.recordStockAdjustment({ adjustment: { id: 'a1', product_id: 'p1', quantity_delta: -1 } });
    await PosSync.createCustomer({ customer: { id: 'c1', name: 'Ada' } });
    await PosSync.updateCustomer({ customer: { id: 'c1', name: 'Ada L.' } });
    await PosSync.resolveConflict({ conflictId: 'k1', resolution: 'merged', merged: { id: 'c1', name: 'Ada M.' } });
    await PosSync.resolveConflict({ conflictId: 'k1', resolution: 'keep_server' });
    expect(fake.calls.map((c) => c.args[0])).toEqual([
      { adjustmentJson: '{"id":"a1","product_id":"p1","quantity_delta":-1}' },
      { customerJson: '{"id":"c1","name":"Ada"}' },
      { customerJson: '{"id":"c1","name":"Ada L."}' },
      { conflictId: 'k1', resolution: 'merged', mergedJson: '{"id":"c1","name":"Ada M."}' },
      { conflictId: 'k1', resolution: 'keep_server' },
    ]);
  });

  it('documents in results come back as objects, 64-bit values stay exact strings', async () => {
    fake.answers.productByBarcode = { product: wireProduct };
    fake.answers.searchProducts = { products: [wireProduct, { ...wireProduct, id: 'p2', sku: null }] };
    fake.answers.getCustomer = { customer: wireCustomer };
    fake.answers.listConflicts = { conflicts: [wireConflict, { ...wireConflict, serverJson: '{"id":"c1","name":"A"}' }] };
    fake.answers.getSale = { sale: { saleId: 's1', receiptNumber: 'R', json: '{"id":"s1","lines":[]}', createdAtMs: 5 } };

    const { product } = await PosSync.productByBarcode({ barcode: '4006381333931' });
    expect(product).toEqual({ ...wireProduct, json: { id: 'p1', name: 'Espresso', price: 250, tags: ['hot'] } });
    const { products } = await PosSync.searchProducts({ query: 'esp' });
    expect(products.map((p) => [p.id, p.sku, p.json.name])).toEqual([
      ['p1', 'SKU-1', 'Espresso'],
      ['p2', null, 'Espresso'],
    ]);
    const { customer } = await PosSync.getCustomer({ customerId: 'c1' });
    expect(customer?.json).toEqual({ id: 'c1', name: 'Ada', email: 'ada@example.com' });
    expect(customer?.updatedHlc).toBe('113249439252889601');
    const { conflicts } = await PosSync.listConflicts();
    expect(conflicts[0].localJson).toEqual({ id: 'c1', name: 'Ada L.' });
    expect(conflicts[0].serverJson).toBeNull();
    expect(conflicts[1].serverJson).toEqual({ id: 'c1', name: 'A' });
    expect((await PosSync.getSale({ saleId: 's1' })).sale?.json).toEqual({ id: 's1', lines: [] });
  });

  it('absent records are null', async () => {
    fake.answers.productBySku = { product: null };
    fake.answers.getSale = { sale: null };
    fake.answers.resolveConflict = { customer: null };
    expect(await PosSync.productBySku({ sku: 'nope' })).toEqual({ product: null });
    expect(await PosSync.getSale({ saleId: 'nope' })).toEqual({ sale: null });
    expect(await PosSync.resolveConflict({ conflictId: 'k', resolution: 'keep_local' })).toEqual({ customer: null });
  });

  it('a broken document from the native side is an INTERNAL error, not a crash later', async () => {
    fake.answers.productById = { product: { ...wireProduct, json: '{"id":' } };
    const e = await rejection(PosSync.productById({ productId: 'p1' }));
    expect(e.code).toBe('INTERNAL');
    expect(e.message).toMatch(/not valid JSON/);
  });
});

describe('argument checks reject with INVALID_INPUT before anything crosses the bridge', () => {
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ['a sale that is not an object', () => PosSync.recordSale({ sale: '{"id":"s"}' as never }), /'sale' must be an object, not string/],
    ['a sale that is an array', () => PosSync.recordSale({ sale: [] as never }), /not an array/],
    ['no options at all', () => PosSync.recordSale(undefined as never), /expects an options object, not undefined/],
    ['a document JSON cannot carry', () => PosSync.createCustomer({ customer: { id: 'c', name: 'n', n: 1n } as never }), /cannot be written as JSON/],
    ['a limit out of range', () => PosSync.searchProducts({ query: 'a', limit: 0 }), /'limit' must be a whole number from 1 to 1000, not 0/],
    ['a fractional limit', () => PosSync.searchCustomers({ query: 'a', limit: 2.5 }), /'limit'/],
    ['a barcode that is a number', () => PosSync.productByBarcode({ barcode: 4006381333931 as never }), /'barcode' must be a string, not number/],
    ['an unknown resolution', () => PosSync.resolveConflict({ conflictId: 'k', resolution: 'mine' as never }), /'resolution' must be one of keep_local, keep_server, merged/],
    ['a merged resolution without the merge', () => PosSync.resolveConflict({ conflictId: 'k', resolution: 'merged' }), /needs the merged customer/],
    ['a merge with another resolution', () => PosSync.resolveConflict({ conflictId: 'k', resolution: 'keep_local', merged: { id: 'c', name: 'n' } }), /only for a 'merged'/],
    ['an open without a store', () => PosSync.open({ registerId: 'R1', deviceId: 'd' } as never), /'storeId' must be a string/],
    ['a token that is a number', () => PosSync.setToken({ token: 42 as never }), /'token' must be a string/],
    ['connectivity as a string', () => PosSync.setNetworkAvailable({ available: 'yes' as never }), /'available' must be true or false/],
    ['an auto sync interval under a second', () => PosSync.startAutoSync({ intervalMs: 10 }), /'intervalMs'/],
    ['a background interval of zero', () => PosSync.enableBackgroundSync({ intervalMinutes: 0 }), /'intervalMinutes'/],
    ['an unknown event', () => PosSync.addListener('statusChanged' as never, () => undefined), /unknown event 'statusChanged'/],
    ['a listener that is not a function', () => PosSync.addListener('syncStatus', 'f' as never), /must be a function/],
  ];
  it.each(cases)('%s', async (_name, call, message) => {
    const e = await rejection(call());
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toMatch(message);
    expect(fake.calls).toEqual([]);
  });

  it('defaults fill in what the app left out', async () => {
    fake.answers.searchProducts = { products: [] };
    fake.answers.enableBackgroundSync = { enabled: true, intervalMinutes: 30 };
    fake.answers.setToken = undefined;
    await PosSync.searchProducts({ query: 'a' });
    await PosSync.enableBackgroundSync();
    await PosSync.setToken({ token: null });
    expect(fake.calls.map((c) => c.args[0])).toEqual([{ query: 'a', limit: DEFAULT_LIMIT }, { intervalMinutes: 30 }, { token: null }]);
  });
});

describe('native errors reach the app unchanged', () => {
  it('keeps the code and message of a native rejection', async () => {
    fake.answers.recordSale = Object.assign(new Error('invalid input: sale line 1 has no product_id'), { code: 'INVALID_INPUT' });
    const e = await rejection(PosSync.recordSale({ sale: { id: 's', lines: [] } as never }));
    expect(e).toMatchObject({ code: 'INVALID_INPUT', message: 'invalid input: sale line 1 has no product_id' });
  });
});

describe('events', () => {
  const status = { phase: 'uploading', entityType: 'sale', progress: 3 } as unknown as SyncStatus;

  it('syncStatus and tokenRequested payloads pass through; conflict payloads are parsed', async () => {
    const seen: unknown[] = [];
    await PosSync.addListener('syncStatus', (s) => seen.push(['status', s.phase]));
    await PosSync.addListener('conflict', (c) => seen.push(['conflict', c.localJson, c.serverJson]));
    await PosSync.addListener('tokenRequested', (r) => seen.push(['token', r.refresh]));
    fake.emit('syncStatus', status);
    fake.emit('conflict', wireConflict);
    fake.emit('tokenRequested', { refresh: true, timeoutMs: 10_000 });
    expect(seen).toEqual([
      ['status', 'uploading'],
      ['conflict', { id: 'c1', name: 'Ada L.' }, null],
      ['token', true],
    ]);
    expect(fake.calls.map((c) => c.args[0])).toEqual(['syncStatus', 'conflict', 'tokenRequested']);
  });

  it('a removed listener hears nothing more; removeAllListeners silences all of them', async () => {
    const seen: string[] = [];
    const a = await PosSync.addListener('syncStatus', () => seen.push('a'));
    await PosSync.addListener('syncStatus', () => seen.push('b'));
    fake.emit('syncStatus', status);
    await a.remove();
    fake.emit('syncStatus', status);
    await PosSync.removeAllListeners();
    fake.emit('syncStatus', status);
    expect(seen).toEqual(['a', 'b', 'b']);
  });
});
