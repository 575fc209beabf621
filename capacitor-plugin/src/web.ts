import { WebPlugin } from '@capacitor/core';

import type { NativeCall, NativePosSyncPlugin, NativeResult } from './native';

/**
 * The browser fallback. A browser has no pos-sync engine (it is a native library with its
 * own SQLite database), so every engine method rejects with code `UNAVAILABLE`;
 * `addListener` and `removeAllListeners` work (the listeners are simply never called), so
 * an app can register them unconditionally.
 */
export class PosSyncWeb extends WebPlugin implements Omit<NativePosSyncPlugin, 'addListener'> {
  call(options: NativeCall): Promise<NativeResult> {
    return Promise.reject(
      this.unavailable(
        `PosSync.${options.method} is unavailable on web: the pos-sync engine runs only in the Android and iOS apps`,
      ),
    );
  }
}
