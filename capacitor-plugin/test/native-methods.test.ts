/*
 * The three sides of the bridge name the same methods: the interface the JavaScript layer
 * calls (NativePosSyncPlugin in src/native.ts), the Android plugin's @PluginMethods and the
 * iOS plugin's registered methods (PluginCore.methods, each with an @objc func).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

function nativeInterfaceMethods(): string[] {
  const file = ts.createSourceFile('native.ts', read('src/native.ts'), ts.ScriptTarget.Latest, true);
  for (const stmt of file.statements) {
    if (ts.isInterfaceDeclaration(stmt) && stmt.name.text === 'NativePosSyncPlugin') {
      return stmt.members
        .filter(ts.isMethodSignature)
        .map((m) => m.name.getText(file))
        .filter((name) => name !== 'addListener' && name !== 'removeAllListeners');
    }
  }
  throw new Error('no NativePosSyncPlugin in src/native.ts');
}

const sorted = (names: Iterable<string>) => [...new Set(names)].sort();

describe('native method names', () => {
  const expected = sorted(nativeInterfaceMethods());

  it('the JavaScript layer calls 29 native methods', () => {
    expect(expected).toHaveLength(29);
  });

  it('Android: every one is a @PluginMethod of PosSyncPlugin.kt, and nothing else is', () => {
    const kotlin = read('android/src/main/kotlin/io/possync/capacitor/PosSyncPlugin.kt');
    expect(sorted([...kotlin.matchAll(/@PluginMethod\s+fun (\w+)\(call: PluginCall\)/g)].map((m) => m[1]))).toEqual(expected);
  });

  it('iOS: PluginCore.methods registers every one, each has an @objc func and a case in the dispatcher', () => {
    const core = read('ios/Sources/PosSyncPlugin/PluginCore.swift');
    const list = /public static let methods = \[([\s\S]*?)\]/.exec(core);
    expect(list).not.toBeNull();
    expect(sorted([...(list as RegExpExecArray)[1].matchAll(/"(\w+)"/g)].map((m) => m[1]))).toEqual(expected);
    expect(sorted([...core.matchAll(/case "(\w+)":/g)].map((m) => m[1]))).toEqual(expected);
    const plugin = read('ios/Sources/PosSyncPlugin/PosSyncPlugin.swift');
    const objc = [...plugin.matchAll(/@objc func (\w+)\(_ call: CAPPluginCall\) \{ run\("(\w+)", call\) \}/g)];
    expect(objc.every((m) => m[1] === m[2])).toBe(true);
    expect(sorted(objc.map((m) => m[1]))).toEqual(expected);
  });
});
