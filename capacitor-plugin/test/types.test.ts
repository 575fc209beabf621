/*
 * The TypeScript API must match the Rust engine's records, enums and error codes, from one
 * source of truth: the UniFFI metadata of the built library, as UniFFI writes it into the
 * generated Kotlin bindings (scripts/generate-bindings.sh kotlin). See README.md,
 * "How the types are kept in step".
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

import { defaultKotlinPath, extractSchema } from '../scripts/uniffi-schema.mjs';

import { compareTypes, errorCode } from './type-contract';
import type { BridgeRules } from './type-contract';

const root = resolve(__dirname, '..');
const kotlinPath = process.env.POS_SYNC_KOTLIN_BINDINGS ?? defaultKotlinPath();
const definitions = readFileSync(resolve(root, 'src/definitions.ts'), 'utf8');
const rules = JSON.parse(readFileSync(resolve(root, 'bridge-rules.json'), 'utf8')) as BridgeRules;

function kotlinSource(): string {
  if (!existsSync(kotlinPath)) {
    throw new Error(
      `${kotlinPath} is missing: run scripts/generate-bindings.sh kotlin from the repository root ` +
        `(make test-plugin does), or point POS_SYNC_KOTLIN_BINDINGS at a generated pos_sync.kt`,
    );
  }
  return readFileSync(kotlinPath, 'utf8');
}

describe('definitions.ts against the engine (UniFFI metadata of the built library)', () => {
  it('has every exposed record, field, enum value and error code, with the mapped types', () => {
    const schema = extractSchema(kotlinSource());
    expect(compareTypes(schema, definitions, rules)).toEqual([]);
  });

  it('reads the records, enums and errors the plugin relies on from the bindings', () => {
    const schema = extractSchema(kotlinSource());
    for (const r of rules.requiredRecords) expect(Object.keys(schema.records)).toContain(r);
    expect(schema.enums.SyncPhase).toContain('BACKED_OFF');
    expect(Object.values(schema.errors).flat().map(errorCode)).toContain('PAYLOAD_TOO_LARGE');
    expect(schema.records.SaleReceipt.map((f) => f.name)).toEqual(['saleId', 'receiptNumber', 'changeId', 'hlc']);
  });
});

describe('the check catches drift on either side', () => {
  // Only the problems a mutation adds count here, so that real drift fails the test above and
  // not every test of this block as well.
  const check = (kotlin: string, defs: string) => {
    const before = new Set(compareTypes(extractSchema(kotlinSource()), definitions, rules));
    return compareTypes(extractSchema(kotlin), defs, rules).filter((p) => !before.has(p));
  };

  it('a field renamed in definitions.ts', () => {
    const defs = definitions.replace('  receiptNumber: string;\n  /** The queued change', '  receiptNo: string;\n  /** The queued change');
    expect(defs).not.toEqual(definitions);
    expect(check(kotlinSource(), defs)).toEqual([
      'SaleReceipt.receiptNumber: field of the Rust record is missing in definitions.ts',
      'SaleReceipt.receiptNo: field in definitions.ts is not in the Rust record',
    ]);
  });

  it('a field renamed in Rust (as the regenerated bindings show it)', () => {
    const kotlin = kotlinSource().replace(/(data class SyncReport \([\s\S]*?)var `autoResolved`/, '$1var `autoMerged`');
    expect(check(kotlin, definitions)).toEqual([
      'SyncReport.autoMerged: field of the Rust record is missing in definitions.ts',
      'SyncReport.autoResolved: field in definitions.ts is not in the Rust record',
    ]);
  });

  it('a field that became optional in Rust, or a type that changed', () => {
    const kotlin = kotlinSource()
      .replace(/(data class Price \([\s\S]*?var `amount`: )kotlin\.Long/, '$1kotlin.Long?')
      .replace(/(data class Customer \([\s\S]*?var `pendingUpload`: )kotlin\.Boolean/, '$1kotlin.String');
    expect(check(kotlin, definitions)).toEqual([
      "Customer.pendingUpload: definitions.ts says 'boolean', the Rust record means 'string'",
      "Price.amount: definitions.ts says 'number', the Rust record means 'null | number'",
    ]);
  });

  it('an enum value added in Rust or changed in definitions.ts', () => {
    const kotlin = kotlinSource().replace(/(enum class SyncPhase \{\s*)IDLE,/, '$1IDLE,\n    PAUSED,');
    expect(check(kotlin, definitions)).toEqual(["SyncPhase: value 'paused' of the Rust enum is missing in definitions.ts"]);
    const defs = definitions.replace("'keep_local' | 'keep_server'", "'keep_local' | 'keep_remote'");
    expect(check(kotlinSource(), defs)).toEqual([
      "Resolution: value 'keep_server' of the Rust enum is missing in definitions.ts",
      "Resolution: value 'keep_remote' in definitions.ts is not in the Rust enum",
    ]);
  });

  it('a new error variant, and a new record nobody decided about', () => {
    const kotlin = kotlinSource()
      .replace(
        /(sealed class PosSyncException\(message: String\): kotlin\.Exception\(message\) \{)/,
        '$1\n        class QuotaExceeded(message: String) : PosSyncException(message)\n',
      )
      .replace(/^data class SaleReceipt \(/m, 'data class Refund (\n    var `refundId`: kotlin.String\n) {}\ndata class SaleReceipt (');
    expect(check(kotlin, definitions)).toEqual([
      'record Refund: no interface Refund in definitions.ts (add it, or list it under notExposed in bridge-rules.json)',
      "PosSyncErrorCode: code 'QUOTA_EXCEEDED' is missing in definitions.ts",
    ]);
  });

  it('a 64-bit clock value typed as a number, or a JSON document typed as a string', () => {
    const defs = definitions
      .replace('  hlc: string;\n}\n\n/** A queued stock adjustment', '  hlc: number;\n}\n\n/** A queued stock adjustment')
      .replace('  json: JsonObject;\n  version: number;\n}\n\n/** The price', '  json: string;\n  version: number;\n}\n\n/** The price');
    expect(check(kotlinSource(), defs)).toEqual([
      "Product.json: definitions.ts says 'string', the Rust record means 'JsonObject'",
      "SaleReceipt.hlc: definitions.ts says 'number', the Rust record means 'string'",
    ]);
  });
});
