import type { PluginListenerHandle } from '@capacitor/core';

import type { BackgroundSyncInfo } from './generated/BackgroundSyncInfo';
import type { ChangeRef } from './generated/ChangeRef';
import type { Conflict } from './generated/Conflict';
import type { ConsistencyReport } from './generated/ConsistencyReport';
import type { Customer } from './generated/Customer';
import type { EngineConfig } from './generated/EngineConfig';
import type { IntegrityReport } from './generated/IntegrityReport';
import type { OpenResult } from './generated/OpenResult';
import type { PosSyncErrorCode } from './generated/PosSyncErrorCode';
import type { Price } from './generated/Price';
import type { Product } from './generated/Product';
import type { QueueStats } from './generated/QueueStats';
import type { Resolution } from './generated/Resolution';
import type { Sale } from './generated/Sale';
import type { SaleReceipt } from './generated/SaleReceipt';
import type { SyncReport } from './generated/SyncReport';
import type { SyncStatus } from './generated/SyncStatus';
import type { TokenRequest } from './generated/TokenRequest';

/*
 * The public API of capacitor-pos-sync: the plugin's methods and events, declared here once.
 *
 * The records the methods take and return are the Rust engine's own, generated from its
 * serde records by ts-rs into ./generated (never edited by hand: the Rust test
 * `bridge::typescript` fails when they differ from the records). Their JSON shapes:
 *   - a Rust field `snake_case` is `camelCase` here;
 *   - an enum variant `BackedOff` is the string `'backed_off'`;
 *   - `Option<T>` is `T | null` (always present in results);
 *   - 64-bit values that can exceed `Number.MAX_SAFE_INTEGER` (hybrid-logical-clock
 *     timestamps `hlc`/`…Hlc` and checksums) are decimal strings;
 *   - a document (`json`, `localJson`, ...) is a JSON object.
 */

export type { JsonObject } from './generated/JsonObject';
export type { BackgroundSyncInfo } from './generated/BackgroundSyncInfo';
export type { ChangeRef } from './generated/ChangeRef';
export type { Compression } from './generated/Compression';
export type { Conflict } from './generated/Conflict';
export type { ConsistencyReport } from './generated/ConsistencyReport';
export type { Customer } from './generated/Customer';
export type { Durability } from './generated/Durability';
export type { EngineConfig } from './generated/EngineConfig';
export type { EntityConsistency } from './generated/EntityConsistency';
export type { EntityQueueCounts } from './generated/EntityQueueCounts';
export type { EntityType } from './generated/EntityType';
export type { HealthThresholds } from './generated/HealthThresholds';
export type { IntegrityReport } from './generated/IntegrityReport';
export type { OpenResult } from './generated/OpenResult';
export type { PosSyncErrorCode } from './generated/PosSyncErrorCode';
export type { Price } from './generated/Price';
export type { PriceSource } from './generated/PriceSource';
export type { Product } from './generated/Product';
export type { QueueHealth } from './generated/QueueHealth';
export type { QueueStats } from './generated/QueueStats';
export type { Resolution } from './generated/Resolution';
export type { Sale } from './generated/Sale';
export type { SaleReceipt } from './generated/SaleReceipt';
export type { SyncOutcome } from './generated/SyncOutcome';
export type { SyncPhase } from './generated/SyncPhase';
export type { SyncReport } from './generated/SyncReport';
export type { SyncStatus } from './generated/SyncStatus';
export type { TokenRequest } from './generated/TokenRequest';

// ------------------------------------------------------------------------------- errors

/**
 * What every method rejects with: a `CapacitorException` whose `code` is a
 * {@link PosSyncErrorCode} and whose `data` holds the error's fields, when it has any
 * (`retryAfterMs` for `RATE_LIMITED`, `found` and `supported` for `SCHEMA_TOO_NEW`, ...).
 * Check with {@link isPosSyncError}.
 */
export interface PosSyncError extends Error {
  code: PosSyncErrorCode;
  data?: { [field: string]: unknown };
}

/** Whether `error` is a rejection of this plugin (then `code` and `data` are as declared). */
export function isPosSyncError(error: unknown): error is PosSyncError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
}

// ------------------------------------------------------------------------------- options

/** Options of {@link PosSyncPlugin.setToken}. */
export interface SetTokenOptions {
  /**
   * The bearer token for the sync server, or `null` when the app has none (signed out):
   * a waiting `tokenRequested` then fails with an `AUTH` error at once.
   */
  token: string | null;
}

// ------------------------------------------------------------------------------- till

/**
 * A sale as the app records it. The engine validates `id` and `lines` (each with
 * `product_id` and `quantity`); everything else is kept and synced as is.
 */
export interface SaleDocument {
  /** The sale's id, generated by the app (a UUID). Recording it again is a no-op. */
  id: string;
  lines: { product_id: string; quantity: number; [key: string]: unknown }[];
  customer_id?: string;
  total?: number;
  [key: string]: unknown;
}

/** A stock adjustment: goods received, breakage, a count correction. */
export interface StockAdjustmentDocument {
  id: string;
  product_id: string;
  quantity_delta: number;
  [key: string]: unknown;
}

/** A customer as the app writes it: `id` and `name` required; `phone`, `email` optional. */
export interface CustomerDocument {
  id: string;
  name: string;
  phone?: string;
  email?: string;
  [key: string]: unknown;
}

/** Options of {@link PosSyncPlugin.enableBackgroundSync}. */
export interface BackgroundSyncOptions {
  /**
   * How often the OS should run a background sync, in minutes (default 30). Android's
   * WorkManager runs periodic work at most every 15 minutes; iOS decides itself when a
   * BGAppRefreshTask runs and treats this as the earliest next run.
   */
  intervalMinutes?: number;
}

// ------------------------------------------------------------------------------- plugin

/** Receives the sync status: at once after subscribing, then on every change. */
export type SyncStatusListener = (status: SyncStatus) => void;
/** Receives each new conflict that needs a person. */
export type ConflictListener = (conflict: Conflict) => void;
/** Asked when the engine needs a (new) token: answer with {@link PosSyncPlugin.setToken}. */
export type TokenRequestListener = (request: TokenRequest) => void;

/**
 * The pos-sync engine for a Capacitor app: record sales offline, look products up, sync
 * with the server in the background. Every method rejects with a {@link PosSyncError}: its
 * `code` is a {@link PosSyncErrorCode}, its `message` says what went wrong, its `data` holds
 * the error's fields.
 */
export interface PosSyncPlugin {
  /**
   * Opens (or creates) the device database and the engine. Call it once at start-up, before
   * anything else. Opening the same database again with the same configuration returns the
   * same engine (the background worker shares it); a different configuration for an open
   * database rejects with `INVALID_INPUT`.
   *
   * So that background sync can open the engine when the OS starts the app without its web
   * view, the configuration is kept in the plugin's private data directory, and its secrets
   * (`encryptionKey`, `authToken`) in the platform's secret store: wrapped by an
   * AndroidKeyStore key on Android, the Keychain (readable after first unlock) on iOS. They
   * are never written to a plain file (since 0.2; a 0.1 state file is migrated and deleted).
   *
   * @since 0.1.0
   */
  open(config: EngineConfig): Promise<OpenResult>;

  /**
   * Stops auto sync, unsubscribes the plugin from engine events, releases the engine and
   * forgets the saved configuration and token (sign-out, switching stores). Unsynced changes
   * stay in the database. A background worker that holds the engine finishes first.
   *
   * @since 0.1.0
   */
  close(): Promise<void>;

  /**
   * Gives the engine the current bearer token. The engine uses the latest one for every
   * request. When the server refuses it (or no token was set yet), the engine emits
   * `tokenRequested` and waits up to 10 seconds for `setToken`; without an answer the sync
   * fails with `AUTH` and is retried later. The token is also kept in the platform's secret
   * store for background sync (see {@link PosSyncPlugin.open}).
   *
   * @since 0.1.0
   */
  setToken(options: SetTokenOptions): Promise<void>;

  /**
   * Records a sale and queues it for upload in one transaction, offline. Returns the
   * receipt number. Recording the same sale again returns the same receipt.
   *
   * @since 0.1.0
   */
  recordSale(options: { sale: SaleDocument }): Promise<SaleReceipt>;

  /**
   * Records a stock adjustment (`id`, `product_id`, `quantity_delta`) and queues it.
   *
   * @since 0.1.0
   */
  recordStockAdjustment(options: { adjustment: StockAdjustmentDocument }): Promise<ChangeRef>;

  /**
   * A recorded sale, or `null`.
   *
   * @since 0.1.0
   */
  getSale(options: { saleId: string }): Promise<{ sale: Sale | null }>;

  /**
   * Looks a product up in the local catalog by barcode (scanner input).
   *
   * @since 0.1.0
   */
  productByBarcode(options: { barcode: string }): Promise<{ product: Product | null }>;

  /**
   * Looks a product up by SKU.
   *
   * @since 0.1.0
   */
  productBySku(options: { sku: string }): Promise<{ product: Product | null }>;

  /**
   * Looks a product up by id.
   *
   * @since 0.1.0
   */
  productById(options: { productId: string }): Promise<{ product: Product | null }>;

  /**
   * Products whose name has words starting with each word of `query` (typeahead).
   * `limit` defaults to 20 (at most 1000).
   *
   * @since 0.1.0
   */
  searchProducts(options: { query: string; limit?: number }): Promise<{ products: Product[] }>;

  /**
   * The price of a product now: the latest valid price list entry, else the catalog's.
   *
   * @since 0.1.0
   */
  currentPrice(options: { productId: string }): Promise<{ price: Price | null }>;

  /**
   * Creates a customer and queues it for upload.
   *
   * @since 0.1.0
   */
  createCustomer(options: { customer: CustomerDocument }): Promise<Customer>;

  /**
   * Replaces a customer's document and queues the edit.
   *
   * @since 0.1.0
   */
  updateCustomer(options: { customer: CustomerDocument }): Promise<Customer>;

  /**
   * A customer, or `null`.
   *
   * @since 0.1.0
   */
  getCustomer(options: { customerId: string }): Promise<{ customer: Customer | null }>;

  /**
   * Customers by name, phone or e-mail prefix. `limit` defaults to 20 (at most 1000).
   *
   * @since 0.1.0
   */
  searchCustomers(options: { query: string; limit?: number }): Promise<{ customers: Customer[] }>;

  /**
   * Syncs now: one full priority-ordered cycle (uploads, then downloads, then customers).
   * Joins a cycle already running. Never rejects for network trouble: the report's
   * `outcome` and `error` say what happened.
   *
   * @since 0.1.0
   */
  syncNow(): Promise<SyncReport>;

  /**
   * The current sync status (what `syncStatus` listeners receive).
   *
   * @since 0.1.0
   */
  getStatus(): Promise<SyncStatus>;

  /**
   * Queue counts and health (`ok`, `warning`, `critical` with a reason).
   *
   * @since 0.1.0
   */
  getQueueStats(): Promise<QueueStats>;

  /**
   * Makes failed changes due now (after the app or a person fixed something).
   * Returns how many.
   *
   * @since 0.1.0
   */
  retryFailedNow(): Promise<{ count: number }>;

  /**
   * Conflicts waiting for a person, oldest first.
   *
   * @since 0.1.0
   */
  listConflicts(): Promise<{ conflicts: Conflict[] }>;

  /**
   * Resolves a conflict: keep the till's version, keep the server's, or send a merged
   * document (`merged`, required for `resolution: 'merged'`). Needs the network. Returns
   * the customer as the server now holds it (`null` if the server's version is a delete).
   *
   * @since 0.1.0
   */
  resolveConflict(options: {
    conflictId: string;
    resolution: Resolution;
    merged?: CustomerDocument;
  }): Promise<{ customer: Customer | null }>;

  /**
   * Compares local per-type counts and checksums with the server's and schedules a full
   * resync of every type that drifted. Needs the network.
   *
   * @since 0.1.0
   */
  checkConsistency(): Promise<ConsistencyReport>;

  /**
   * SQLite's integrity check plus the queue's invariants, in words.
   *
   * @since 0.1.0
   */
  integrityCheck(): Promise<IntegrityReport>;

  /**
   * Tells the engine about connectivity (for example from `@capacitor/network`). Coming
   * back online triggers a debounced sync while auto sync runs.
   *
   * @since 0.1.0
   */
  setNetworkAvailable(options: { available: boolean }): Promise<void>;

  /**
   * Syncs every `intervalMs` while the app is open, on reconnect, and when failed changes
   * become due. Calling it again changes the interval.
   *
   * @since 0.1.0
   */
  startAutoSync(options: { intervalMs: number }): Promise<void>;

  /**
   * Stops the foreground auto sync.
   *
   * @since 0.1.0
   */
  stopAutoSync(): Promise<void>;

  /**
   * Stops a running sync at its next batch boundary (never inside a batch).
   *
   * @since 0.1.0
   */
  cancelSync(): Promise<void>;

  /**
   * Schedules background sync with the OS. Android: WorkManager periodic work (network
   * required, at least every 15 minutes) through the pos-sync Android library; survives
   * restarts. iOS: submits BGTaskScheduler app-refresh and processing requests; the app must
   * register them at launch with `PosSyncBackground.register(...)` in its AppDelegate (else
   * this rejects with `NOT_CONFIGURED`), and a new interval applies from the next launch.
   *
   * @since 0.1.0
   */
  enableBackgroundSync(options?: BackgroundSyncOptions): Promise<BackgroundSyncInfo>;

  /**
   * Cancels the scheduled background sync.
   *
   * @since 0.1.0
   */
  disableBackgroundSync(): Promise<void>;

  /**
   * Listens for the sync status: the current one at once, then every change (phase,
   * progress, queue counts, connectivity).
   *
   * @since 0.1.0
   */
  addListener(eventName: 'syncStatus', listenerFunc: SyncStatusListener): Promise<PluginListenerHandle>;

  /**
   * Listens for new conflicts that need a person.
   *
   * @since 0.1.0
   */
  addListener(eventName: 'conflict', listenerFunc: ConflictListener): Promise<PluginListenerHandle>;

  /**
   * Listens for token requests: answer each with {@link PosSyncPlugin.setToken}.
   *
   * @since 0.1.0
   */
  addListener(eventName: 'tokenRequested', listenerFunc: TokenRequestListener): Promise<PluginListenerHandle>;

  /**
   * Removes every listener of this plugin.
   *
   * @since 0.1.0
   */
  removeAllListeners(): Promise<void>;
}
