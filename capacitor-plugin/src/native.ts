/*
 * What the native plugin classes implement (android/…/PosSyncPlugin.kt,
 * ios/Sources/PosSyncPlugin/PosSyncPlugin.swift): one generic method that hands a call to the
 * Rust bridge, which owns every method (arguments, defaults, limits, results, errors).
 *
 * Arguments, results and event payloads cross as JSON text, so that no platform re-encodes
 * them (numbers, key order and nesting reach the engine exactly as the app wrote them).
 */
import type { PluginListenerHandle } from '@capacitor/core';

/** One plugin call: the method's TypeScript name and its options as JSON text. */
export interface NativeCall {
  method: string;
  args: string;
}

/** What a call resolves with: the result as JSON text (`"null"` for none). */
export interface NativeResult {
  result: string;
}

/** An event as the native side sends it: the payload as JSON text. */
export interface NativeEvent {
  data: string;
}

/** The plugin as the native classes implement it (registered as `PosSync`). */
export interface NativePosSyncPlugin {
  call(options: NativeCall): Promise<NativeResult>;
  addListener(eventName: string, listenerFunc: (event: NativeEvent) => void): Promise<PluginListenerHandle>;
  removeAllListeners(): Promise<void>;
}
