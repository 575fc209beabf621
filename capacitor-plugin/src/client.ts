/*
 * The JavaScript half of the plugin: checks arguments, turns documents into JSON text for the
 * native side and parses the JSON text fields of its results back into objects (see
 * native.ts for why). It holds no state of its own besides the listener wrappers.
 */
import { CapacitorException } from '@capacitor/core';
import type { ExceptionCode, PluginListenerHandle } from '@capacitor/core';

import type {
  BackgroundSyncOptions,
  Conflict,
  Customer,
  JsonObject,
  PosSyncErrorCode,
  PosSyncPlugin,
  Product,
  Resolution,
  Sale,
} from './definitions';
import type {
  NativePosSyncPlugin,
  WireConflict,
  WireCustomer,
  WireEventName,
  WireProduct,
  WireSale,
} from './native';

/** Default and largest `limit` of the search methods. */
export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 1000;
/** Default interval of background sync. */
export const DEFAULT_BACKGROUND_INTERVAL_MINUTES = 30;

const EVENTS: readonly WireEventName[] = ['syncStatus', 'conflict', 'tokenRequested'];
const RESOLUTIONS: readonly Resolution[] = ['keep_local', 'keep_server', 'merged'];

/** An error with one of the plugin's codes, shaped like the native side's rejections. */
export function posSyncError(message: string, code: PosSyncErrorCode): CapacitorException {
  return new CapacitorException(message, code as unknown as ExceptionCode);
}

function invalid(method: string, message: string): CapacitorException {
  return posSyncError(`${method}: ${message}`, 'INVALID_INPUT');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value}`;
}

function requireObject(method: string, name: string, value: unknown): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(method, `'${name}' must be an object, not ${describe(value)}`);
  }
  return value as JsonObject;
}

function requireOptions(method: string, options: unknown): Record<string, unknown> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid(method, `expects an options object, not ${describe(options)}`);
  }
  return options as Record<string, unknown>;
}

function requireString(method: string, name: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw invalid(method, `'${name}' must be a string, not ${describe(value)}`);
  }
  return value;
}

function requireBoolean(method: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw invalid(method, `'${name}' must be true or false, not ${describe(value)}`);
  }
  return value;
}

function requireInteger(method: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(method, `'${name}' must be a whole number from ${min} to ${max}, not ${String(value)}`);
  }
  return value;
}

/** JSON text of an app document; refuses what JSON cannot carry (cycles, BigInt). */
function documentJson(method: string, name: string, value: unknown): string {
  const doc = requireObject(method, name, value);
  try {
    return JSON.stringify(doc);
  } catch (e) {
    throw invalid(method, `'${name}' cannot be written as JSON (${(e as Error).message})`);
  }
}

function parseJson(what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw posSyncError(`the native plugin returned ${what} that is not valid JSON`, 'INTERNAL');
  }
}

function parseObject(what: string, text: string): JsonObject {
  const value = parseJson(what, text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw posSyncError(`the native plugin returned ${what} that is not a JSON object`, 'INTERNAL');
  }
  return value as JsonObject;
}

export function parseSale(w: WireSale): Sale {
  return { ...w, json: parseObject('a sale document', w.json) };
}

export function parseProduct(w: WireProduct): Product {
  return { ...w, json: parseObject('a product document', w.json) };
}

export function parseCustomer(w: WireCustomer): Customer {
  return { ...w, json: parseObject('a customer document', w.json) };
}

export function parseConflict(w: WireConflict): Conflict {
  const server = parseJson('a conflict document', w.serverJson);
  if (server !== null && (typeof server !== 'object' || Array.isArray(server))) {
    throw posSyncError('the native plugin returned a conflict document that is not a JSON object', 'INTERNAL');
  }
  return {
    ...w,
    localJson: parseObject('a conflict document', w.localJson),
    serverJson: server as JsonObject | null,
  };
}

function orNull<W, T>(value: W | null | undefined, parse: (w: W) => T): T | null {
  return value === null || value === undefined ? null : parse(value);
}

/**
 * Wraps the native plugin (or its web fallback) in the public API. `index.ts` calls it once
 * with the object `registerPlugin` returns.
 */
export function createPosSync(native: NativePosSyncPlugin): PosSyncPlugin {
  // Every method is async, so argument errors reject (never throw synchronously).
  const api: PosSyncPlugin = {
    async open(config) {
      const c = requireOptions('open', config);
      for (const key of ['storeId', 'registerId', 'deviceId'] as const) {
        requireString('open', key, c[key]);
      }
      return native.open(config);
    },
    async close() {
      return native.close();
    },
    async setToken(options) {
      const o = requireOptions('setToken', options);
      if (o.token !== null) requireString('setToken', 'token', o.token);
      return native.setToken({ token: o.token as string | null });
    },

    async recordSale(options) {
      const o = requireOptions('recordSale', options);
      return native.recordSale({ saleJson: documentJson('recordSale', 'sale', o.sale) });
    },
    async recordStockAdjustment(options) {
      const o = requireOptions('recordStockAdjustment', options);
      return native.recordStockAdjustment({
        adjustmentJson: documentJson('recordStockAdjustment', 'adjustment', o.adjustment),
      });
    },
    async getSale(options) {
      const o = requireOptions('getSale', options);
      const r = await native.getSale({ saleId: requireString('getSale', 'saleId', o.saleId) });
      return { sale: orNull(r.sale, parseSale) };
    },
    async productByBarcode(options) {
      const o = requireOptions('productByBarcode', options);
      const r = await native.productByBarcode({
        barcode: requireString('productByBarcode', 'barcode', o.barcode),
      });
      return { product: orNull(r.product, parseProduct) };
    },
    async productBySku(options) {
      const o = requireOptions('productBySku', options);
      const r = await native.productBySku({ sku: requireString('productBySku', 'sku', o.sku) });
      return { product: orNull(r.product, parseProduct) };
    },
    async productById(options) {
      const o = requireOptions('productById', options);
      const r = await native.productById({
        productId: requireString('productById', 'productId', o.productId),
      });
      return { product: orNull(r.product, parseProduct) };
    },
    async searchProducts(options) {
      const o = requireOptions('searchProducts', options);
      const r = await native.searchProducts({
        query: requireString('searchProducts', 'query', o.query),
        limit: requireInteger('searchProducts', 'limit', o.limit ?? DEFAULT_LIMIT, 1, MAX_LIMIT),
      });
      return { products: r.products.map(parseProduct) };
    },
    async currentPrice(options) {
      const o = requireOptions('currentPrice', options);
      return native.currentPrice({ productId: requireString('currentPrice', 'productId', o.productId) });
    },
    async createCustomer(options) {
      const o = requireOptions('createCustomer', options);
      return parseCustomer(
        await native.createCustomer({ customerJson: documentJson('createCustomer', 'customer', o.customer) }),
      );
    },
    async updateCustomer(options) {
      const o = requireOptions('updateCustomer', options);
      return parseCustomer(
        await native.updateCustomer({ customerJson: documentJson('updateCustomer', 'customer', o.customer) }),
      );
    },
    async getCustomer(options) {
      const o = requireOptions('getCustomer', options);
      const r = await native.getCustomer({
        customerId: requireString('getCustomer', 'customerId', o.customerId),
      });
      return { customer: orNull(r.customer, parseCustomer) };
    },
    async searchCustomers(options) {
      const o = requireOptions('searchCustomers', options);
      const r = await native.searchCustomers({
        query: requireString('searchCustomers', 'query', o.query),
        limit: requireInteger('searchCustomers', 'limit', o.limit ?? DEFAULT_LIMIT, 1, MAX_LIMIT),
      });
      return { customers: r.customers.map(parseCustomer) };
    },

    async syncNow() {
      return native.syncNow();
    },
    async getStatus() {
      return native.getStatus();
    },
    async getQueueStats() {
      return native.getQueueStats();
    },
    async retryFailedNow() {
      return native.retryFailedNow();
    },
    async listConflicts() {
      const r = await native.listConflicts();
      return { conflicts: r.conflicts.map(parseConflict) };
    },
    async resolveConflict(options) {
      const method = 'resolveConflict';
      const o = requireOptions(method, options);
      const conflictId = requireString(method, 'conflictId', o.conflictId);
      const resolution = o.resolution as Resolution;
      if (!RESOLUTIONS.includes(resolution)) {
        throw invalid(method, `'resolution' must be one of ${RESOLUTIONS.join(', ')}, not ${String(o.resolution)}`);
      }
      if (resolution === 'merged' && o.merged === undefined) {
        throw invalid(method, `a 'merged' resolution needs the merged customer in 'merged'`);
      }
      if (resolution !== 'merged' && o.merged !== undefined) {
        throw invalid(method, `'merged' is only for a 'merged' resolution`);
      }
      const r = await native.resolveConflict({
        conflictId,
        resolution,
        ...(resolution === 'merged' ? { mergedJson: documentJson(method, 'merged', o.merged) } : {}),
      });
      return { customer: orNull(r.customer, parseCustomer) };
    },
    async checkConsistency() {
      return native.checkConsistency();
    },
    async integrityCheck() {
      return native.integrityCheck();
    },

    async setNetworkAvailable(options) {
      const o = requireOptions('setNetworkAvailable', options);
      return native.setNetworkAvailable({
        available: requireBoolean('setNetworkAvailable', 'available', o.available),
      });
    },
    async startAutoSync(options) {
      const o = requireOptions('startAutoSync', options);
      return native.startAutoSync({
        intervalMs: requireInteger('startAutoSync', 'intervalMs', o.intervalMs, 1000, 7 * 86_400_000),
      });
    },
    async stopAutoSync() {
      return native.stopAutoSync();
    },
    async cancelSync() {
      return native.cancelSync();
    },
    async enableBackgroundSync(options?: BackgroundSyncOptions) {
      const o = options === undefined ? {} : requireOptions('enableBackgroundSync', options);
      return native.enableBackgroundSync({
        intervalMinutes: requireInteger(
          'enableBackgroundSync',
          'intervalMinutes',
          o.intervalMinutes ?? DEFAULT_BACKGROUND_INTERVAL_MINUTES,
          1,
          7 * 24 * 60,
        ),
      });
    },
    async disableBackgroundSync() {
      return native.disableBackgroundSync();
    },

    async addListener(eventName: WireEventName, listenerFunc: (event: never) => void): Promise<PluginListenerHandle> {
      if (!EVENTS.includes(eventName)) {
        throw invalid('addListener', `unknown event '${String(eventName)}'; events are ${EVENTS.join(', ')}`);
      }
      if (typeof listenerFunc !== 'function') {
        throw invalid('addListener', `the listener for '${eventName}' must be a function`);
      }
      const deliver = listenerFunc as (event: unknown) => void;
      if (eventName === 'conflict') {
        return native.addListener('conflict', (w) => deliver(parseConflict(w)));
      }
      return native.addListener(eventName, (event) => deliver(event));
    },
    async removeAllListeners() {
      return native.removeAllListeners();
    },
  } as PosSyncPlugin;
  return api;
}
