/*
 * The JavaScript layer: every method becomes one native `call` with its options as JSON text,
 * results and event payloads come back parsed, errors pass through, against a fake native
 * plugin that records what crossed the bridge.
 */
import type { PluginListenerHandle } from '@capacitor/core';
import { CapacitorException } from '@capacitor/core';
import { beforeEach, describe, expect, it } from 'vitest';

import { createPosSync } from '../src/client';
import { isPosSyncError } from '../src/definitions';
import type { PosSyncPlugin, SyncStatus } from '../src/definitions';
import type { NativeCall, NativeEvent, NativePosSyncPlugin } from '../src/native';

/** A native plugin that answers from `answers` (JSON text) and keeps what it saw. */
class FakeNative implements NativePosSyncPlugin {
  calls: NativeCall[] = [];
  answers: Record<string, string | Error> = {};
  listeners: { event: string; fn: (e: NativeEvent) => void; removed: boolean }[] = [];

  async call(options: NativeCall) {
    this.calls.push(options);
    const answer = this.answers[options.method] ?? 'null';
    if (answer instanceof Error) throw answer;
    return { result: answer };
  }

  async addListener(event: string, fn: (e: NativeEvent) => void): Promise<PluginListenerHandle> {
    const entry = { event, fn, removed: false };
    this.listeners.push(entry);
    return { remove: async () => void (entry.removed = true) };
  }

  async removeAllListeners() {
    for (const l of this.listeners) l.removed = true;
  }

  emit(event: string, payload: string) {
    for (const l of this.listeners) if (l.event === event && !l.removed) l.fn({ data: payload });
  }
}

let fake: FakeNative;
let api: PosSyncPlugin;
beforeEach(() => {
  fake = new FakeNative();
  api = createPosSync(fake);
});

describe('every method is one native call', () => {
  it('sends the method name and the options as JSON text', async () => {
    fake.answers.recordSale = '{"saleId":"s1","receiptNumber":"S1-R1-000001","changeId":"c","hlc":"7318624713048064001"}';
    const sale = { id: 's1', lines: [{ product_id: 'p1', quantity: 2 }], total: 12.5 };
    const receipt = await api.recordSale({ sale });
    expect(fake.calls).toEqual([{ method: 'recordSale', args: JSON.stringify({ sale }) }]);
    // 64-bit clock values arrive as exact decimal strings.
    expect(receipt.hlc).toBe('7318624713048064001');
  });

  it('methods without options send {}, and a null result resolves to undefined', async () => {
    await expect(api.syncNow()).resolves.toBeUndefined();
    await expect(api.close()).resolves.toBeUndefined();
    expect(fake.calls).toEqual([
      { method: 'syncNow', args: '{}' },
      { method: 'close', args: '{}' },
    ]);
  });

  it('results come back parsed, documents as objects', async () => {
    fake.answers.productByBarcode = '{"product":{"id":"p1","sku":null,"barcode":"4006","name":"Espresso","json":{"id":"p1","price":250},"version":3}}';
    const { product } = await api.productByBarcode({ barcode: '4006' });
    expect(product?.json).toEqual({ id: 'p1', price: 250 });
  });

  it('options JSON cannot carry are an INVALID_INPUT error, and nothing crosses', async () => {
    const cyclic: Record<string, unknown> = { id: 's1', lines: [] };
    cyclic.self = cyclic;
    await expect(api.recordSale({ sale: cyclic as never })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(fake.calls).toEqual([]);
  });

  it('a broken answer from the native side is an INTERNAL error, not a crash later', async () => {
    fake.answers.getStatus = '{"phase":';
    await expect(api.getStatus()).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('the plugin object is not a promise (await-safe)', async () => {
    expect((api as unknown as { then?: unknown }).then).toBeUndefined();
    await expect(Promise.resolve(api)).resolves.toBe(api);
  });
});

describe('errors', () => {
  it('a native rejection reaches the app with its code, message and details', async () => {
    const rejection = new CapacitorException('rate limited by the server: retry in 5000 ms', 'RATE_LIMITED' as never, {
      retryAfterMs: 5000,
    });
    fake.answers.syncNow = rejection;
    const error = await api.syncNow().catch((e: unknown) => e);
    expect(isPosSyncError(error)).toBe(true);
    if (isPosSyncError(error)) {
      expect(error.code).toBe('RATE_LIMITED');
      expect(error.data).toEqual({ retryAfterMs: 5000 });
    }
    expect(isPosSyncError(new Error('plain'))).toBe(false);
    expect(isPosSyncError('RATE_LIMITED')).toBe(false);
  });
});

describe('events', () => {
  const status = { phase: 'idle', progress: 0 } as unknown as SyncStatus;

  it('payloads arrive parsed', async () => {
    const seen: unknown[] = [];
    await api.addListener('syncStatus', (s) => seen.push(s));
    await api.addListener('conflict', (c) => seen.push(c));
    fake.emit('syncStatus', JSON.stringify(status));
    fake.emit('conflict', '{"conflictId":"k","localJson":{"name":"Ana"},"serverJson":null}');
    expect(seen).toEqual([status, { conflictId: 'k', localJson: { name: 'Ana' }, serverJson: null }]);
  });

  it('a removed listener hears nothing more; removeAllListeners silences all of them', async () => {
    const seen: unknown[] = [];
    const handle = await api.addListener('syncStatus', (s) => seen.push(s));
    await api.addListener('tokenRequested', (t) => seen.push(t));
    await handle.remove();
    fake.emit('syncStatus', JSON.stringify(status));
    await api.removeAllListeners();
    fake.emit('tokenRequested', '{"refresh":true,"timeoutMs":10000}');
    expect(seen).toEqual([]);
  });

  it('a listener that is not a function is refused', async () => {
    await expect(api.addListener('syncStatus', 42 as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
