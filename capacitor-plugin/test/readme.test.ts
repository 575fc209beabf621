/*
 * The README's TypeScript examples compile against the package's types: each ```ts block is
 * wrapped in a function (imports hoisted), with the app's own objects declared, and
 * type-checked by the TypeScript compiler with `capacitor-pos-sync` mapped to src/index.ts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';

const root = resolve(__dirname, '..');

const appObjects = `
declare const deviceId: string;
declare const scanned: string;
declare const sale: import('capacitor-pos-sync').SaleDocument;
declare const myAuth: { deviceToken(options?: { forceRefresh?: boolean }): Promise<string> };
declare const indicator: { show(...args: unknown[]): void };
declare const reviewQueue: { add(conflict: import('capacitor-pos-sync').Conflict): void };
declare function printReceipt(receiptNumber: string): void;
`;

it('the README examples type-check', () => {
  const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  expect(blocks.length).toBeGreaterThanOrEqual(2);
  const imports = new Set<string>();
  const bodies = blocks.map((block, i) => {
    const lines = block.split('\n');
    lines.filter((l) => l.startsWith('import ')).forEach((l) => imports.add(l));
    return `export async function example${i}() {\n${lines.filter((l) => !l.startsWith('import ')).join('\n')}\n}`;
  });
  const dir = resolve(root, 'build/readme-check');
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, 'examples.ts');
  writeFileSync(file, [...imports, appObjects, ...bodies].join('\n'));
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2020,
    lib: ['lib.es2020.d.ts', 'lib.dom.d.ts'],
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    skipLibCheck: true,
    baseUrl: root,
    paths: { 'capacitor-pos-sync': ['src/index.ts'] },
  });
  const problems = ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file ? d.file.fileName.split('/').pop() : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  expect(problems).toEqual([]);
  // The compiler takes seconds on a busy 2-core machine.
}, 60_000);
