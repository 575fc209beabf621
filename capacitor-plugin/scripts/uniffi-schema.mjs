#!/usr/bin/env node
// Extracts the engine's records, enums and error variants from the Kotlin bindings that
// UniFFI generates out of the built Rust library (scripts/generate-bindings.sh kotlin), and
// writes them as JSON: the Rust side of the type check in test/types.test.ts.
//
//   node scripts/uniffi-schema.mjs [path/to/pos_sync.kt] [out.json]
//
// Defaults: the first of ../android/build/generated/uniffi/{kotlin-jvm,kotlin}/io/possync/pos_sync.kt
// that exists, and build/uniffi-schema.json. The generated code is UniFFI 0.32.2's (pinned
// exactly in Cargo.toml); the parser fails loudly rather than guess if its shape changes.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pluginDir = resolve(here, '..');

export function defaultKotlinPath() {
  const candidates = ['kotlin-jvm', 'kotlin'].map((v) =>
    resolve(pluginDir, '..', 'android/build/generated/uniffi', v, 'io/possync/pos_sync.kt'),
  );
  return candidates.find((p) => existsSync(p)) ?? candidates[0];
}

function stripComments(src) {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

/** The text between the bracket at `open` and its match. */
function balanced(src, open, pair) {
  const [o, c] = pair;
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    if (src[i] === o) depth++;
    else if (src[i] === c && --depth === 0) return src.slice(open + 1, i);
  }
  throw new Error(`unbalanced ${o}${c} at offset ${open}`);
}

const NUMBER = /^kotlin\.(U?Long|U?Int|U?Short|U?Byte|Double|Float)$/;

/** A Kotlin type of the bindings as a small JSON type. */
export function parseType(text) {
  let t = text.trim();
  let nullable = false;
  if (t.endsWith('?')) {
    nullable = true;
    t = t.slice(0, -1).trim();
  }
  let type;
  let m;
  if (t === 'kotlin.String') type = { kind: 'string' };
  else if (t === 'kotlin.Boolean') type = { kind: 'boolean' };
  else if ((m = NUMBER.exec(t))) type = { kind: 'number', kotlin: m[1] };
  else if ((m = /^List<(.+)>$/.exec(t))) type = { kind: 'list', of: parseType(m[1]) };
  else if ((m = /^Map<([^,]+),(.+)>$/.exec(t))) type = { kind: 'map', key: parseType(m[1]), value: parseType(m[2]) };
  else if (/^[A-Z]\w*$/.test(t)) type = { kind: 'ref', name: t };
  else throw new Error(`unsupported Kotlin type '${text}'`);
  return nullable ? { ...type, nullable: true } : type;
}

export function extractSchema(kotlinSource) {
  const src = stripComments(kotlinSource);
  const records = {};
  for (const m of src.matchAll(/^data class (\w+)\s*\(/gm)) {
    const body = balanced(src, m.index + m[0].length - 1, '()');
    const fields = [];
    for (const f of body.matchAll(/var `(\w+)`:\s*([^\n=]+?)\s*(?:=\s*([^\n]+?))?\s*$/gm)) {
      fields.push({ name: f[1], type: parseType(f[2]), hasDefault: f[3] !== undefined });
    }
    if (fields.length === 0) throw new Error(`record ${m[1]}: no fields found (generated code changed?)`);
    records[m[1]] = fields;
  }
  const enums = {};
  for (const m of src.matchAll(/^enum class (\w+)\s*\{/gm)) {
    const body = balanced(src, m.index + m[0].length - 1, '{}');
    const constants = body.split(';')[0].split(',').map((s) => s.trim()).filter(Boolean);
    if (!constants.every((c) => /^[A-Z][A-Z0-9_]*$/.test(c))) {
      throw new Error(`enum ${m[1]}: unexpected constants ${JSON.stringify(constants)}`);
    }
    enums[m[1]] = constants;
  }
  const errors = {};
  for (const m of src.matchAll(/^sealed class (\w+)\(message: String\): kotlin\.Exception\(message\)\s*\{/gm)) {
    const body = balanced(src, m.index + m[0].length - 1, '{}');
    errors[m[1]] = [...body.matchAll(new RegExp(`class (\\w+)\\(message: String\\) : ${m[1]}\\(message\\)`, 'g'))].map(
      (v) => v[1],
    );
  }
  if (Object.keys(records).length === 0 || Object.keys(enums).length === 0 || Object.keys(errors).length === 0) {
    throw new Error('no records, enums or errors found: is this the generated pos_sync.kt?');
  }
  return { records, enums, errors };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = resolve(process.argv[2] ?? defaultKotlinPath());
  const output = resolve(process.argv[3] ?? resolve(pluginDir, 'build/uniffi-schema.json'));
  if (!existsSync(input)) {
    console.error(`uniffi-schema: ${input} is missing; run scripts/generate-bindings.sh kotlin from the repository root`);
    process.exit(1);
  }
  const schema = { source: input, ...extractSchema(readFileSync(input, 'utf8')) };
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, JSON.stringify(schema, null, 2) + '\n');
  console.log(
    `uniffi-schema: ${Object.keys(schema.records).length} records, ${Object.keys(schema.enums).length} enums, ` +
      `${Object.values(schema.errors).flat().length} error variants -> ${output}`,
  );
}
