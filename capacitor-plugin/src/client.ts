/*
 * The JavaScript half of the plugin: every method of PosSyncPlugin (definitions.ts) becomes
 * one `call({ method, args })` of the native plugin, with the options as JSON text, and its
 * JSON answer is parsed back. The Rust bridge owns the rest (argument checks, defaults,
 * results, errors), so no method is listed here: a method declared in definitions.ts and
 * implemented in the bridge works without a change to this file.
 */
import { CapacitorException } from '@capacitor/core';
import type { ExceptionCode, PluginListenerHandle } from '@capacitor/core';

import type { PosSyncErrorCode, PosSyncPlugin } from './definitions';
import type { NativeEvent, NativePosSyncPlugin } from './native';

/** An error with one of the plugin's codes, shaped like the native side's rejections. */
export function posSyncError(message: string, code: PosSyncErrorCode): CapacitorException {
  return new CapacitorException(message, code as unknown as ExceptionCode);
}

function parse(what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw posSyncError(`the native plugin returned ${what} that is not valid JSON`, 'INTERNAL');
  }
}

/** The names a plugin object has that are not plugin methods (promise checks, JSON). */
const NOT_METHODS = new Set(['then', 'toJSON']);

/**
 * Wraps the native plugin (or its web fallback) in the public API. `index.ts` calls it once
 * with the object `registerPlugin` returns.
 */
export function createPosSync(native: NativePosSyncPlugin): PosSyncPlugin {
  async function invoke(method: string, options: unknown): Promise<unknown> {
    let args: string;
    try {
      args = options === undefined ? '{}' : JSON.stringify(options);
    } catch (e) {
      throw posSyncError(`${method}: the options cannot be written as JSON (${(e as Error).message})`, 'INVALID_INPUT');
    }
    const { result } = await native.call({ method, args });
    const value = parse(`a result of ${method}`, result);
    return value === null ? undefined : value;
  }

  const listeners = {
    async addListener(eventName: string, listenerFunc: (event: unknown) => void): Promise<PluginListenerHandle> {
      if (typeof listenerFunc !== 'function') {
        throw posSyncError(`addListener: the listener for '${eventName}' must be a function`, 'INVALID_INPUT');
      }
      return native.addListener(eventName, (event: NativeEvent) => listenerFunc(parse(`a '${eventName}' event`, event.data)));
    },
    async removeAllListeners(): Promise<void> {
      return native.removeAllListeners();
    },
  };

  return new Proxy(listeners, {
    get(target, name) {
      if (typeof name !== 'string' || NOT_METHODS.has(name)) return undefined;
      if (name in target) return target[name as keyof typeof target];
      return (options?: unknown) => invoke(name, options);
    },
  }) as unknown as PosSyncPlugin;
}
