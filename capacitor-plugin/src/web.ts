import { CapacitorException, WebPlugin } from '@capacitor/core';
import type { ExceptionCode, PluginListenerHandle } from '@capacitor/core';

import type { BenchName, FromWorker, ToWorker } from './web/protocol';

/** The bridge's methods (src/bridge/methods.rs), forwarded as the native plugins forward them. */
const METHODS = [
  'open', 'close', 'setToken',
  'recordSale', 'recordStockAdjustment', 'getSale',
  'productByBarcode', 'productBySku', 'productById', 'searchProducts', 'currentPrice',
  'createCustomer', 'updateCustomer', 'getCustomer', 'searchCustomers',
  'syncNow', 'getStatus', 'getQueueStats', 'retryFailedNow', 'listConflicts',
  'resolveConflict', 'checkConsistency', 'integrityCheck',
  'setNetworkAvailable', 'startAutoSync', 'stopAutoSync', 'cancelSync',
  'enableBackgroundSync', 'disableBackgroundSync',
] as const;

const EVENTS = ['syncStatus', 'conflict', 'tokenRequested', 'dataChanged'];

/** The OPFS directory of the engine's files (one pool, one engine, per origin). */
export const WEB_STORAGE_DIRECTORY = 'pos-sync';

type Method = (typeof METHODS)[number];

// The methods are made in the constructor, one per bridge method.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface PosSyncWeb extends Record<Method, (options?: unknown) => Promise<any>> {}

/**
 * The browser implementation: the same Rust plugin bridge as Android and iOS, compiled to
 * WebAssembly and run in a dedicated Web Worker (web/worker.ts) with the database in OPFS.
 * Calls, results, error codes and events are those of the native plugins: each call's
 * options go to the bridge as JSON, its answer comes back as JSON, a rejection carries the
 * bridge's `code` and `details` (`data`), and events arrive as `{ data: json }`.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class PosSyncWeb extends WebPlugin {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();

  constructor() {
    super();
    for (const method of METHODS) {
      this[method] = (options?: unknown) => this.call(method, options);
    }
  }

  async addListener(eventName: string, listenerFunc: (event: any) => void): Promise<PluginListenerHandle> {
    const handle = await super.addListener(eventName, listenerFunc);
    this.sendListeners();
    return {
      remove: async () => {
        await handle.remove();
        this.sendListeners();
      },
    };
  }

  async removeAllListeners(): Promise<void> {
    await super.removeAllListeners();
    this.sendListeners();
  }

  /** The browser benchmark's steps (test/browser/bench.mjs); not part of the plugin API. */
  benchmark(name: BenchName, db: string, rows: unknown[]): Promise<number> {
    return this.request((id) => ({ type: 'bench', id, name, db, rowsJson: JSON.stringify(rows) })) as Promise<number>;
  }

  private call(method: string, options: unknown): Promise<unknown> {
    let argsJson: string;
    try {
      argsJson = JSON.stringify(options ?? {});
    } catch (e) {
      return Promise.reject(
        new CapacitorException(`${method}: the options cannot be written as JSON (${(e as Error).message})`,
          'INVALID_INPUT' as ExceptionCode),
      );
    }
    return this.request((id) => ({ type: 'call', id, method, argsJson }));
  }

  /** Without module workers and OPFS (Node, very old browsers) there is no engine to start. */
  private supported(): boolean {
    return typeof Worker !== 'undefined' && typeof navigator !== 'undefined' && 'storage' in navigator;
  }

  private request(message: (id: number) => ToWorker): Promise<unknown> {
    if (!this.supported()) {
      return Promise.reject(
        this.unavailable('PosSync on the web needs a browser with module Web Workers and OPFS (navigator.storage)'),
      );
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send(message(id));
    });
  }

  private send(message: ToWorker): void {
    this.engineWorker().postMessage(message);
  }

  private sendListeners(): void {
    if (this.worker) this.send({ type: 'listeners', events: EVENTS.filter((e) => this.hasListeners(e)) });
  }

  /** The worker, started on first use (new URL(…, import.meta.url): bundlers ship it). */
  private engineWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./web/worker.js', import.meta.url), { type: 'module' });
    worker.onmessage = (m: MessageEvent<FromWorker>) => this.receive(m.data);
    worker.onerror = (e) => this.failAll(`the pos-sync worker failed to load: ${e.message ?? 'no message'}`);
    this.worker = worker;
    worker.postMessage({ type: 'start', directory: WEB_STORAGE_DIRECTORY } satisfies ToWorker);
    this.sendListeners();
    return worker;
  }

  private receive(message: FromWorker): void {
    if (message.type === 'event') {
      this.notifyListeners(message.event, { data: message.dataJson });
      return;
    }
    const waiting = this.pending.get(message.id);
    if (!waiting) return;
    this.pending.delete(message.id);
    if (message.type === 'result') {
      waiting.resolve(JSON.parse(message.json) ?? undefined);
    } else {
      const { code, message: text, details } = message.error;
      waiting.reject(new CapacitorException(text, code as ExceptionCode, details ?? undefined));
    }
  }

  private failAll(reason: string): void {
    for (const { reject } of this.pending.values()) {
      reject(new CapacitorException(reason, 'INTERNAL' as ExceptionCode));
    }
    this.pending.clear();
  }
}
