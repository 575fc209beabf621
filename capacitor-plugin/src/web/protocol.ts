/*
 * The messages between the page (web.ts) and the engine's dedicated worker (worker.ts).
 * Plugin calls cross as JSON text, as they cross the native bridges.
 */

/** Page → worker. */
export type ToWorker =
  | { type: 'start'; directory: string }
  | { type: 'call'; id: number; method: string; argsJson: string }
  | { type: 'listeners'; events: string[] }
  /** The browser benchmark (test/browser/bench.mjs): timed in the worker, beside raw rusqlite. */
  | { type: 'bench'; id: number; name: BenchName; db: string; rowsJson: string };

export type BenchName = 'engineRecordSales' | 'rawRecordSales' | 'rawUpsertProducts';

/** A rejected call, as the Rust bridge's `BridgeError`. */
export interface WireError {
  code: string;
  message: string;
  details?: Record<string, unknown> | null;
}

/** Worker → page. */
export type FromWorker =
  | { type: 'result'; id: number; json: string }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'event'; event: string; dataJson: string };
