import { WebPlugin } from '@capacitor/core';

import type { NativePosSyncPlugin } from './native';

/**
 * The browser fallback. A browser has no pos-sync engine (it is a native library with its
 * own SQLite database), so every engine method rejects with code `UNAVAILABLE`;
 * `addListener` and `removeAllListeners` work (the listeners are simply never called), so
 * an app can register them unconditionally.
 */
export class PosSyncWeb extends WebPlugin implements Omit<NativePosSyncPlugin, 'addListener'> {
  private fail(method: string): Promise<never> {
    return Promise.reject(
      this.unavailable(
        `PosSync.${method} is unavailable on web: the pos-sync engine runs only in the Android and iOS apps`,
      ),
    );
  }

  open(): Promise<never> {
    return this.fail('open');
  }
  close(): Promise<never> {
    return this.fail('close');
  }
  setToken(): Promise<never> {
    return this.fail('setToken');
  }
  recordSale(): Promise<never> {
    return this.fail('recordSale');
  }
  recordStockAdjustment(): Promise<never> {
    return this.fail('recordStockAdjustment');
  }
  getSale(): Promise<never> {
    return this.fail('getSale');
  }
  productByBarcode(): Promise<never> {
    return this.fail('productByBarcode');
  }
  productBySku(): Promise<never> {
    return this.fail('productBySku');
  }
  productById(): Promise<never> {
    return this.fail('productById');
  }
  searchProducts(): Promise<never> {
    return this.fail('searchProducts');
  }
  currentPrice(): Promise<never> {
    return this.fail('currentPrice');
  }
  createCustomer(): Promise<never> {
    return this.fail('createCustomer');
  }
  updateCustomer(): Promise<never> {
    return this.fail('updateCustomer');
  }
  getCustomer(): Promise<never> {
    return this.fail('getCustomer');
  }
  searchCustomers(): Promise<never> {
    return this.fail('searchCustomers');
  }
  syncNow(): Promise<never> {
    return this.fail('syncNow');
  }
  getStatus(): Promise<never> {
    return this.fail('getStatus');
  }
  getQueueStats(): Promise<never> {
    return this.fail('getQueueStats');
  }
  retryFailedNow(): Promise<never> {
    return this.fail('retryFailedNow');
  }
  listConflicts(): Promise<never> {
    return this.fail('listConflicts');
  }
  resolveConflict(): Promise<never> {
    return this.fail('resolveConflict');
  }
  checkConsistency(): Promise<never> {
    return this.fail('checkConsistency');
  }
  integrityCheck(): Promise<never> {
    return this.fail('integrityCheck');
  }
  setNetworkAvailable(): Promise<never> {
    return this.fail('setNetworkAvailable');
  }
  startAutoSync(): Promise<never> {
    return this.fail('startAutoSync');
  }
  stopAutoSync(): Promise<never> {
    return this.fail('stopAutoSync');
  }
  cancelSync(): Promise<never> {
    return this.fail('cancelSync');
  }
  enableBackgroundSync(): Promise<never> {
    return this.fail('enableBackgroundSync');
  }
  disableBackgroundSync(): Promise<never> {
    return this.fail('disableBackgroundSync');
  }
}
