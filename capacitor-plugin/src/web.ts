import { CapacitorException, WebPlugin } from '@capacitor/core';
import type { ExceptionCode, PluginListenerHandle } from '@capacitor/core';

import type { NativeCall, NativeEvent, NativePosSyncPlugin, NativeResult } from './native';
import type { BenchName, FromWorker, ToWorker } from './web/protocol';

const EVENTS = ['syncStatus', 'conflict', 'tokenRequested', 'dataChanged'];

/** The OPFS directory of the engine's files (one pool, one engine, per origin). */
export const WEB_STORAGE_DIRECTORY = 'pos-sync';

/**
 * The browser implementation: the same Rust plugin bridge as Android and iOS, compiled to
 * WebAssembly and run in a dedicated Web Worker (web/worker.ts) with the database in OPFS.
 * It implements the native plugins' one method, `call({ method, args })`, with the same
 * JSON in and out; a rejection carries the bridge's `code` and its fields as `data`, and
 * events arrive as `{ data: json }`, exactly as from Android and iOS.
 */
export class PosSyncWeb extends WebPlugin implements NativePosSyncPlugin {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();

  async call(options: NativeCall): Promise<NativeResult> {
    const json = (await this.request((id) => ({ type: 'call', id, method: options.method, argsJson: options.args }))) as string;
    return { result: json };
  }

  async addListener(eventName: string, listenerFunc: (event: NativeEvent) => void): Promise<PluginListenerHandle> {
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
  async benchmark(name: BenchName, db: string, rows: unknown[]): Promise<number> {
    const json = (await this.request((id) => ({ type: 'bench', id, name, db, rowsJson: JSON.stringify(rows) }))) as string;
    return JSON.parse(json) as number;
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
      waiting.resolve(message.json);
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
