/*
 * The record types come from Rust (ts-rs, checked by the Rust test `bridge::typescript`);
 * definitions.ts must re-export every one of them, so an app can import each from the
 * package. The same for the plugin's forwarders: the Kotlin class declares the one generic
 * method the client calls, and no per-method table.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

describe('definitions.ts and the generated records', () => {
  it('re-exports every generated type', () => {
    const generated = readdirSync(resolve(root, 'src/generated'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    const definitions = read('src/definitions.ts');
    const exported = [...definitions.matchAll(/^export type \{ (\w+) \} from '\.\/generated\/(\w+)';$/gm)];
    expect(exported.every((m) => m[1] === m[2])).toBe(true);
    expect(exported.map((m) => m[1]).sort()).toEqual(generated);
  });

  it('declares no record of its own that the generated files hold', () => {
    const definitions = read('src/definitions.ts');
    for (const f of readdirSync(resolve(root, 'src/generated'))) {
      const name = f.replace(/\.ts$/, '');
      expect(definitions).not.toMatch(new RegExp(`^export (interface|type) ${name}\\b`, 'm'));
    }
  });
});

describe('the native classes are forwarders', () => {
  it('Android: one @PluginMethod, `call`', () => {
    const kotlin = read('android/src/main/kotlin/io/possync/capacitor/PosSyncPlugin.kt');
    expect([...kotlin.matchAll(/@PluginMethod[^\n]*\n\s*fun (\w+)/g)].map((m) => m[1])).toEqual(['call']);
  });

});
