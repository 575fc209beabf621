/*
 * The bridge between the public API (definitions.ts) and the native plugin classes
 * (android/…/PosSyncPlugin.kt, ios/Sources/PosSyncPlugin/PosSyncPlugin.swift).
 *
 * JSON documents cross the bridge as JSON text so that neither platform re-encodes them
 * (numbers, key order and nesting reach the engine exactly as the app wrote them): the
 * JavaScript layer (client.ts) stringifies documents on the way in and parses the
 * `json`/`…Json` fields of results on the way out. Everything else crosses as is.
 */
import type { PluginListenerHandle } from '@capacitor/core';

import type {
  BackgroundSyncInfo,
  BackgroundSyncOptions,
  ChangeRef,
  ConsistencyReport,
  Conflict,
  Customer,
  EngineConfig,
  IntegrityReport,
  OpenResult,
  Price,
  Product,
  QueueStats,
  Resolution,
  Sale,
  SaleReceipt,
  SetTokenOptions,
  SyncReport,
  SyncStatus,
  TokenRequest,
} from './definitions';

/** A record whose JSON document fields are still JSON text. */
export type WireSale = Omit<Sale, 'json'> & { json: string };
export type WireProduct = Omit<Product, 'json'> & { json: string };
export type WireCustomer = Omit<Customer, 'json'> & { json: string };
export type WireConflict = Omit<Conflict, 'localJson' | 'serverJson'> & {
  localJson: string;
  /** `"null"` when the server deleted the record. */
  serverJson: string;
};

/** The events the native side emits, with their wire payloads. */
export interface WireEvents {
  syncStatus: SyncStatus;
  conflict: WireConflict;
  tokenRequested: TokenRequest;
}

export type WireEventName = keyof WireEvents;

/** The plugin as the native classes implement it (registered as `PosSync`). */
export interface NativePosSyncPlugin {
  open(config: EngineConfig): Promise<OpenResult>;
  close(): Promise<void>;
  setToken(options: SetTokenOptions): Promise<void>;

  recordSale(options: { saleJson: string }): Promise<SaleReceipt>;
  recordStockAdjustment(options: { adjustmentJson: string }): Promise<ChangeRef>;
  getSale(options: { saleId: string }): Promise<{ sale: WireSale | null }>;
  productByBarcode(options: { barcode: string }): Promise<{ product: WireProduct | null }>;
  productBySku(options: { sku: string }): Promise<{ product: WireProduct | null }>;
  productById(options: { productId: string }): Promise<{ product: WireProduct | null }>;
  searchProducts(options: { query: string; limit: number }): Promise<{ products: WireProduct[] }>;
  currentPrice(options: { productId: string }): Promise<{ price: Price | null }>;
  createCustomer(options: { customerJson: string }): Promise<WireCustomer>;
  updateCustomer(options: { customerJson: string }): Promise<WireCustomer>;
  getCustomer(options: { customerId: string }): Promise<{ customer: WireCustomer | null }>;
  searchCustomers(options: { query: string; limit: number }): Promise<{ customers: WireCustomer[] }>;

  syncNow(): Promise<SyncReport>;
  getStatus(): Promise<SyncStatus>;
  getQueueStats(): Promise<QueueStats>;
  retryFailedNow(): Promise<{ count: number }>;
  listConflicts(): Promise<{ conflicts: WireConflict[] }>;
  resolveConflict(options: {
    conflictId: string;
    resolution: Resolution;
    mergedJson?: string;
  }): Promise<{ customer: WireCustomer | null }>;
  checkConsistency(): Promise<ConsistencyReport>;
  integrityCheck(): Promise<IntegrityReport>;

  setNetworkAvailable(options: { available: boolean }): Promise<void>;
  startAutoSync(options: { intervalMs: number }): Promise<void>;
  stopAutoSync(): Promise<void>;
  cancelSync(): Promise<void>;
  enableBackgroundSync(options: Required<BackgroundSyncOptions>): Promise<BackgroundSyncInfo>;
  disableBackgroundSync(): Promise<void>;

  addListener<E extends WireEventName>(
    eventName: E,
    listenerFunc: (event: WireEvents[E]) => void,
  ): Promise<PluginListenerHandle>;
  removeAllListeners(): Promise<void>;
}
