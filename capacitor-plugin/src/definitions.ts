import type { PluginListenerHandle } from '@capacitor/core';

/*
 * The public API of capacitor-pos-sync.
 *
 * The records and enums below mirror the Rust engine's UniFFI records (src/ in the pos-sync
 * repository) field for field; `npm test` fails when they drift apart (test/types.test.ts,
 * see "How the types are kept in step" in README.md). Naming rules, applied mechanically:
 *   - a Rust field `snake_case` is `camelCase` here (as in Kotlin and Swift);
 *   - an enum variant `BackedOff` is the string `'backed_off'`;
 *   - `Option<T>` is `T | null` (always present in results);
 *   - 64-bit values that can exceed `Number.MAX_SAFE_INTEGER` (hybrid-logical-clock
 *     timestamps `hlc`/`…Hlc` and checksums) are decimal strings;
 *   - a JSON document held as text (`json`, `…_json`) is a parsed object.
 */

/** A JSON object: a document the app stores (sale, customer) or the server sent (product). */
export interface JsonObject {
  [key: string]: unknown;
}

// ------------------------------------------------------------------------------- enums

/** The kinds of data the engine syncs, in sync priority order. */
export type EntityType = 'sale' | 'stock_adjustment' | 'product' | 'price' | 'customer' | 'report';

/** What the sync engine is doing now. */
export type SyncPhase = 'idle' | 'uploading' | 'downloading' | 'offline' | 'backed_off' | 'error';

/** How a sync cycle ended. */
export type SyncOutcome =
  | 'completed'
  | 'budget_exhausted'
  | 'cancelled'
  | 'network_error'
  | 'server_error'
  | 'auth_error'
  | 'backed_off'
  | 'not_configured';

/** The queue's health, for the sync indicator: `warning` and `critical` come with a reason. */
export type QueueHealth = 'ok' | 'warning' | 'critical';

/** How a person resolved a customer conflict. */
export type Resolution = 'keep_local' | 'keep_server' | 'merged';

/** Where a product's current price came from. */
export type PriceSource = 'price_list' | 'catalog';

/** Upload compression: `fast` (gzip level 1, the default), `best` (level 6) or `none`. */
export type Compression = 'none' | 'fast' | 'best';

/**
 * Commit durability: `full` (the default: a recorded sale survives power loss) or `normal`
 * (survives an app crash; the last commits may be lost on power loss).
 */
export type Durability = 'full' | 'normal';

/**
 * The `code` of every error the plugin rejects with. The engine's codes (one per Rust
 * `PosSyncError` variant) and two of the plugin's own:
 * - `UNAVAILABLE`: called in a browser, where there is no engine;
 * - `INTERNAL`: an unexpected failure of the plugin itself (a bug: please report it).
 *
 * Calls made before {@link PosSyncPlugin.open} reject with `NOT_CONFIGURED`; bad arguments
 * with `INVALID_INPUT`.
 */
export type PosSyncErrorCode =
  | 'INVALID_INPUT'
  | 'PAYLOAD_TOO_LARGE'
  | 'NOT_FOUND'
  | 'DATABASE'
  | 'STORAGE_FULL'
  | 'SCHEMA_TOO_NEW'
  | 'NETWORK'
  | 'AUTH'
  | 'SERVER'
  | 'INTEGRITY'
  | 'RATE_LIMITED'
  | 'CANCELLED'
  | 'NOT_CONFIGURED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

// ------------------------------------------------------------------------------- configuration

/**
 * How to open the engine (the Rust `EngineConfig`). Only `storeId`, `registerId` and
 * `deviceId` are required.
 */
export interface EngineConfig {
  /**
   * The device database file, relative to the plugin's private data directory, which is
   * excluded from backups (Android `Context.getNoBackupFilesDir()`, iOS Application
   * Support/PosSync): a till's database restored onto another device would issue the same
   * receipt numbers. Default: `pos-sync.db`. An absolute path is used as is.
   */
  databasePath?: string;
  /** Receipt numbers are `STORE-REGISTER-000001`: the pair must be unique per till. */
  storeId: string;
  registerId: string;
  /** A stable id of this installation (generate a UUID once and keep it). */
  deviceId: string;
  /** `https://…` (plain http only to localhost). Without it the engine works offline only. */
  serverUrl?: string | null;
  /**
   * A fixed bearer token. For tokens that expire, use {@link PosSyncPlugin.setToken} and
   * the `tokenRequested` event instead.
   */
  authToken?: string | null;
  /** Most changes per upload request. Default 500. */
  uploadBatchSize?: number;
  /** Most payload bytes per upload request. Default 2 MiB. */
  uploadBatchBytes?: number;
  /** Upload batches per entity type per cycle before downloads get their turn. Default 20. */
  maxUploadBatchesPerCycle?: number;
  /** Records per download page. Default 1000. */
  downloadPageSize?: number;
  /** Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Default 30 000 ms. */
  requestTimeoutMs?: number;
  /** Customer edits on both sides closer than this go to manual review. Default 2000 ms. */
  conflictTieWindowMs?: number;
  /** Synced queue rows, sync logs and the audit trail are kept this long. Default 30. */
  retentionDays?: number;
  /** First retry delay of a failed change; doubles per attempt. Default 2000 ms. */
  retryBaseMs?: number;
  /** Default 600 000 ms. */
  retryMaxMs?: number;
  /** Wait after the network comes back before syncing. Default 2000 ms. */
  networkDebounceMs?: number;
  /** Default `fast`. */
  compression?: Compression | null;
  /** Default `full`. */
  durability?: Durability | null;
  /** Queue health thresholds. */
  health?: HealthThresholds | null;
  /**
   * Encrypts the database at rest (SQLCipher) with this key; keep it in the Android
   * Keystore / iOS Keychain. Needs native libraries built with the engine's `encryption`
   * feature, otherwise `open` rejects with `NOT_CONFIGURED`. Default: not encrypted.
   */
  encryptionKey?: string | null;
}

/** When the queue counts as unhealthy. Defaults suit a till that syncs every few minutes. */
export interface HealthThresholds {
  /** Default 500 unsynced changes. */
  warningPending?: number;
  /** Default 5000. */
  criticalPending?: number;
  /** Oldest unsynced change older than this: warning. Default one hour. */
  warningAgeMs?: number;
  /** Default one day. */
  criticalAgeMs?: number;
}

/** What {@link PosSyncPlugin.open} returns. */
export interface OpenResult {
  /** The pos-sync library version. */
  version: string;
  /** The database file the engine uses (absolute path). */
  databasePath: string;
}

/** Options of {@link PosSyncPlugin.setToken}. */
export interface SetTokenOptions {
  /**
   * The bearer token for the sync server, or `null` when the app has none (signed out):
   * a waiting `tokenRequested` then fails with an `AUTH` error at once.
   */
  token: string | null;
}

/** The payload of the `tokenRequested` event. */
export interface TokenRequest {
  /**
   * `true` when the server refused the current token (answer with a new one);
   * `false` when the engine has no token yet.
   */
  refresh: boolean;
  /** How long the engine waits for {@link PosSyncPlugin.setToken}, in ms. */
  timeoutMs: number;
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

/** What the till gets back from recording a sale. */
export interface SaleReceipt {
  saleId: string;
  /** `STORE-REGISTER-000042`: gapless per device, unique across tills. */
  receiptNumber: string;
  /** The queued change carrying this sale to the server. */
  changeId: string;
  /** Hybrid logical clock timestamp of the sale (a 64-bit integer as a decimal string). */
  hlc: string;
}

/** A queued stock adjustment. */
export interface ChangeRef {
  entityId: string;
  changeId: string;
  /** Hybrid logical clock timestamp (decimal string). */
  hlc: string;
}

/** A recorded sale as the app reads it back. */
export interface Sale {
  saleId: string;
  receiptNumber: string;
  /** The sale document, with the receipt number added by the engine. */
  json: JsonObject;
  createdAtMs: number;
}

/** A product of the local catalog (downloaded from the server). */
export interface Product {
  id: string;
  sku: string | null;
  barcode: string | null;
  name: string;
  /** The whole product document as the server sent it. */
  json: JsonObject;
  version: number;
}

/** The price of a product now. */
export interface Price {
  productId: string;
  /** In minor units (cents). */
  amount: number;
  currency: string | null;
  source: PriceSource;
  /** The price list entry, for `price_list`. */
  priceId: string | null;
  validFromMs: number;
}

/** A customer as the engine holds it. */
export interface Customer {
  id: string;
  name: string;
  phone: string | null;
  email: string | null;
  /** The whole customer document. */
  json: JsonObject;
  /** The server version this device last agreed on (0: never synced). */
  version: number;
  /** A local edit is waiting to be uploaded (or for conflict review). */
  pendingUpload: boolean;
  /** Hybrid logical clock timestamp of the last edit (decimal string). */
  updatedHlc: string;
}

// ------------------------------------------------------------------------------- sync

/** Counts of one uploaded entity type in the queue. */
export interface EntityQueueCounts {
  entityType: EntityType;
  pending: number;
  syncing: number;
  synced: number;
  failed: number;
  conflict: number;
}

/** The sync queue at a glance, with its health. */
export interface QueueStats {
  pending: number;
  syncing: number;
  synced: number;
  failed: number;
  conflict: number;
  /** Of the failed: refused by the server, waiting for a person or a server fix. */
  rejected: number;
  byEntity: EntityQueueCounts[];
  /** Age of the oldest change not yet synced, if any. */
  oldestUnsyncedAgeMs: number | null;
  /** Payload bytes not yet synced. */
  bytesPending: number;
  health: QueueHealth;
  /** Why the health is not `ok`, in words for a support screen (`""` when ok). */
  healthReason: string;
}

/** What the sync indicator shows; also the payload of the `syncStatus` event. */
export interface SyncStatus {
  phase: SyncPhase;
  /** The entity type being synced, while uploading or downloading. */
  entityType: EntityType | null;
  /** Records done so far in the current step. */
  progress: number;
  /** What the app last told the engine about connectivity. */
  online: boolean;
  lastSyncAtMs: number | null;
  nextSyncAtMs: number | null;
  lastError: string | null;
  queue: QueueStats;
}

/** What one sync cycle did. */
export interface SyncReport {
  runId: string;
  outcome: SyncOutcome;
  /** Changes the server applied (duplicates included). */
  uploaded: number;
  /** Server records applied on the device. */
  downloaded: number;
  /** Customer conflicts decided automatically. */
  autoResolved: number;
  /** New conflicts waiting for a person. */
  conflicts: number;
  /** Changes that failed this cycle (retried later). */
  failed: number;
  /** Of those, changes the server refused permanently. */
  rejected: number;
  /** Changes still not synced after this cycle. */
  remaining: number;
  durationMs: number;
  /** Run again soon: the budget or the upload share ran out with work left. */
  moreWorkPending: boolean;
  /** The earliest time the engine contacts the server again (backoff), if delayed. */
  nextSyncAllowedAtMs: number | null;
  error: string | null;
}

/** A customer edited on both sides that needs a person; also the `conflict` event payload. */
export interface Conflict {
  /** Pass it to {@link PosSyncPlugin.resolveConflict}. */
  conflictId: string;
  changeId: string;
  entityType: EntityType;
  entityId: string;
  /** The device's version of the record. */
  localJson: JsonObject;
  /** The server's version (`null` when the server deleted it). */
  serverJson: JsonObject | null;
  serverVersion: number;
  /** Hybrid logical clock timestamps (decimal strings). */
  localHlc: string;
  serverHlc: string;
  /** Why it needs a person, in words. */
  reason: string;
  createdAtMs: number;
}

/** Local and server totals of one downloaded entity type. */
export interface EntityConsistency {
  entityType: EntityType;
  localCount: number;
  serverCount: number;
  /** Wrapping 64-bit checksums (decimal strings). */
  localChecksum: string;
  serverChecksum: string;
  inSync: boolean;
}

/** The result of {@link PosSyncPlugin.checkConsistency}. */
export interface ConsistencyReport {
  checkedAtMs: number;
  entities: EntityConsistency[];
  /** Types whose drift scheduled a full resync on the next cycle. */
  resyncScheduled: EntityType[];
  consistent: boolean;
}

/** The result of {@link PosSyncPlugin.integrityCheck}. */
export interface IntegrityReport {
  /** No problems found (warnings do not count). */
  ok: boolean;
  /** Things that are wrong, in words. */
  problems: string[];
  /** Things worth knowing that are not wrong by themselves. */
  warnings: string[];
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

/** What {@link PosSyncPlugin.enableBackgroundSync} scheduled. */
export interface BackgroundSyncInfo {
  enabled: boolean;
  /** The interval the OS scheduler was given (after the platform's minimum). */
  intervalMinutes: number;
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
 * with the server in the background. Every method rejects with an error whose `code` is a
 * {@link PosSyncErrorCode} and whose `message` says what went wrong.
 */
export interface PosSyncPlugin {
  /**
   * Opens (or creates) the device database and the engine. Call it once at start-up, before
   * anything else. Opening the same database again with the same configuration returns the
   * same engine (the background worker shares it); a different configuration for an open
   * database rejects with `INVALID_INPUT`.
   *
   * The configuration and the latest token are kept in the plugin's private data directory,
   * so that background sync can open the engine when the OS starts the app without its web
   * view.
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
   * fails with `AUTH` and is retried later. The token is also kept in the plugin's private,
   * not-backed-up data directory for background sync.
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
