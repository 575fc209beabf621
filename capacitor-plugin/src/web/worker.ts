/*
 * The engine's dedicated Web Worker: the Rust plugin bridge on WebAssembly (web/ crate),
 * with the database in OPFS (sync access handles exist only in dedicated workers). The page
 * (web.ts) starts one per app; it posts plugin calls here and gets results and events back.
 *
 * One engine per database across tabs: the worker takes the Web Lock of its OPFS directory
 * before opening anything and keeps it until the tab closes. A second tab gets no lock and
 * every call there rejects with code DATABASE (see docs/web.md).
 */
import init, { WebEngine, rawRecordSales, rawUpsertProducts } from './pos_sync_web.js';
import type { BenchName, FromWorker, ToWorker, WireError } from './protocol.js';

/** What this file uses of DedicatedWorkerGlobalScope (the package compiles with the DOM lib). */
interface WorkerScope {
  postMessage(message: FromWorker): void;
  addEventListener(type: 'message', listener: (m: MessageEvent<ToWorker>) => void): void;
  addEventListener(type: 'online' | 'offline', listener: () => void): void;
}
const scope = globalThis as unknown as WorkerScope;

const listening = new Set<string>();
let engine: Promise<WebEngine> | undefined;

function post(message: FromWorker): void {
  scope.postMessage(message);
}

/** Holds the directory's lock for the worker's lifetime; false when another tab has it. */
function lock(directory: string): Promise<boolean> {
  return new Promise((granted) => {
    void navigator.locks.request(`pos-sync:${directory}`, { ifAvailable: true }, (held) => {
      granted(held !== null);
      // Never settles: the browser releases the lock when this worker ends.
      return held === null ? undefined : new Promise<never>(() => {});
    });
  });
}

function failure(code: string, message: string): WireError {
  return { code, message };
}

async function start(directory: string): Promise<WebEngine> {
  if (!(await lock(directory))) {
    throw failure(
      'DATABASE',
      `the pos-sync database '${directory}' is open in another tab or window of this app; ` +
        'use that one (one engine per database), or close it and reload',
    );
  }
  await init();
  return WebEngine.start(
    {
      emit: (event, dataJson) => post({ type: 'event', event, dataJson }),
      hasListeners: (event) => listening.has(event),
    },
    directory,
  );
}

/** The browser's connectivity drives the engine's network state once it is open. */
async function reportNetwork(): Promise<void> {
  const available = navigator.onLine;
  try {
    await (await engine!).call('setNetworkAvailable', JSON.stringify({ available }));
  } catch {
    // Not open (yet, or any more): `open` reports the state again.
  }
}
scope.addEventListener('online', () => void reportNetwork());
scope.addEventListener('offline', () => void reportNetwork());

async function call(id: number, method: string, argsJson: string): Promise<void> {
  try {
    if (!engine) throw failure('INTERNAL', 'the pos-sync worker was not started');
    const json = await (await engine).call(method, argsJson);
    post({ type: 'result', id, json });
    if (method === 'open') await reportNetwork();
  } catch (e) {
    const error =
      typeof e === 'object' && e !== null && 'code' in e
        ? (e as WireError)
        : failure('INTERNAL', e instanceof Error ? e.message : String(e));
    post({ type: 'error', id, error });
  }
}

/** Milliseconds of one benchmark step, measured here so that no message passing is in it. */
async function bench(name: BenchName, db: string, rowsJson: string): Promise<number> {
  if (name === 'rawRecordSales') return rawRecordSales(db, rowsJson);
  if (name === 'rawUpsertProducts') return rawUpsertProducts(db, rowsJson, 1000);
  const open = await engine!;
  const sales = (JSON.parse(rowsJson) as unknown[]).map((sale) => JSON.stringify({ sale }));
  const started = performance.now();
  for (const args of sales) await open.call('recordSale', args);
  return performance.now() - started;
}

scope.addEventListener('message', (m) => {
  const message = m.data;
  switch (message.type) {
    case 'start':
      engine ??= start(message.directory);
      // Keep a failed start from being an unhandled rejection; calls report it.
      engine.catch(() => {});
      break;
    case 'call':
      void call(message.id, message.method, message.argsJson);
      break;
    case 'bench':
      bench(message.name, message.db, message.rowsJson).then(
        (ms) => post({ type: 'result', id: message.id, json: JSON.stringify(ms) }),
        (e) => post({ type: 'error', id: message.id, error: failure('INTERNAL', String(e)) }),
      );
      break;
    case 'listeners':
      listening.clear();
      message.events.forEach((e) => listening.add(e));
      break;
  }
});
