import { registerPlugin } from '@capacitor/core';

import { createPosSync } from './client';
import type { PosSyncPlugin } from './definitions';
import type { NativePosSyncPlugin } from './native';

/** The native plugin (Android, iOS) or, in a browser, the web fallback that rejects. */
const PosSyncNative = registerPlugin<NativePosSyncPlugin>('PosSync', {
  web: () => import('./web').then((m) => new m.PosSyncWeb()),
});

/** The pos-sync engine. */
const PosSync: PosSyncPlugin = createPosSync(PosSyncNative);

export * from './definitions';
export { PosSync };
