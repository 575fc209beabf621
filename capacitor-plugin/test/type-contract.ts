/*
 * Compares the TypeScript API (src/definitions.ts) with the engine's UniFFI records, enums and
 * error variants (extracted from the generated Kotlin bindings by scripts/uniffi-schema.mjs)
 * under the naming rules of bridge-rules.json. Returns every disagreement in words; an empty
 * list means the two sides match. Used by types.test.ts.
 */
import ts from 'typescript';

export interface SchemaType {
  kind: 'string' | 'boolean' | 'number' | 'list' | 'map' | 'ref';
  nullable?: boolean;
  name?: string;
  of?: SchemaType;
  kotlin?: string;
}

export interface SchemaField {
  name: string;
  type: SchemaType;
  hasDefault: boolean;
}

export interface Schema {
  records: Record<string, SchemaField[]>;
  enums: Record<string, string[]>;
  errors: Record<string, string[]>;
}

export interface BridgeRules {
  jsonTextFields: string;
  int64AsStringFields: string;
  nullableJsonFields: Record<string, string[]>;
  pluginDefaults: Record<string, string[]>;
  notExposed: { records: string[]; enums: string[] };
  requiredRecords: string[];
  errorType: string;
  pluginErrorCodes: string[];
}

interface TsProperty {
  optional: boolean;
  type: string;
}

interface TsDeclarations {
  interfaces: Map<string, Map<string, TsProperty>>;
  aliases: Map<string, ts.TypeNode>;
}

/** `BackedOff`/`BACKED_OFF` → `backed_off`. */
export function enumValue(kotlinConstant: string): string {
  return kotlinConstant.toLowerCase();
}

/** `PayloadTooLarge` → `PAYLOAD_TOO_LARGE` (the Rust `PosSyncError::code()`). */
export function errorCode(variant: string): string {
  return variant.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** A type written the one canonical way: single spaces, union members sorted. */
function normalize(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat
    .split('|')
    .map((s) => s.trim())
    .sort()
    .join(' | ');
}

export function readDeclarations(fileName: string, source: string): TsDeclarations {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const interfaces = new Map<string, Map<string, TsProperty>>();
  const aliases = new Map<string, ts.TypeNode>();
  for (const stmt of file.statements) {
    if (ts.isInterfaceDeclaration(stmt)) {
      const props = new Map<string, TsProperty>();
      for (const member of stmt.members) {
        if (ts.isPropertySignature(member) && member.type) {
          props.set(member.name.getText(file), {
            optional: member.questionToken !== undefined,
            type: normalize(member.type.getText(file)),
          });
        }
      }
      interfaces.set(stmt.name.text, props);
    } else if (ts.isTypeAliasDeclaration(stmt)) {
      aliases.set(stmt.name.text, stmt.type);
    }
  }
  return { interfaces, aliases };
}

/** The string literals of a union of string literals, or null if it is something else. */
function stringUnion(node: ts.TypeNode): string[] | null {
  const members = ts.isUnionTypeNode(node) ? node.types : [node];
  const values: string[] = [];
  for (const m of members) {
    if (ts.isLiteralTypeNode(m) && ts.isStringLiteral(m.literal)) values.push(m.literal.text);
    else return null;
  }
  return values;
}

function setDiff(a: Iterable<string>, b: Set<string>): string[] {
  return [...a].filter((x) => !b.has(x));
}

export function compareTypes(schema: Schema, definitions: string, rules: BridgeRules): string[] {
  const problems: string[] = [];
  const ts_ = readDeclarations('definitions.ts', definitions);
  const jsonField = new RegExp(rules.jsonTextFields);
  const int64Field = new RegExp(rules.int64AsStringFields);
  const exposedRecords = Object.keys(schema.records).filter((r) => !rules.notExposed.records.includes(r));
  const exposedEnums = Object.keys(schema.enums).filter((e) => !rules.notExposed.enums.includes(e));

  for (const name of rules.notExposed.records) {
    if (!(name in schema.records)) problems.push(`bridge-rules.json lists record ${name} as not exposed, but the engine has no such record`);
  }
  for (const name of rules.notExposed.enums) {
    if (!(name in schema.enums)) problems.push(`bridge-rules.json lists enum ${name} as not exposed, but the engine has no such enum`);
  }
  for (const name of rules.requiredRecords) {
    if (!exposedRecords.includes(name)) problems.push(`record ${name} is required by the plugin API but the engine has no such record (or it is listed as not exposed)`);
  }

  const expectedType = (record: string, field: SchemaField): string[] => {
    const base = (t: SchemaType, top: boolean): string => {
      switch (t.kind) {
        case 'string':
          return top && jsonField.test(field.name) ? 'JsonObject' : 'string';
        case 'number':
          return top && int64Field.test(field.name) && /Long/.test(t.kotlin ?? '') ? 'string' : 'number';
        case 'boolean':
          return 'boolean';
        case 'list':
          return `${base(t.of as SchemaType, false)}[]`;
        case 'ref':
          if (!exposedRecords.includes(t.name as string) && !exposedEnums.includes(t.name as string)) {
            problems.push(`${record}.${field.name} refers to ${t.name}, which bridge-rules.json says is not exposed`);
          }
          return t.name as string;
        case 'map':
          return `{ [key: string]: ${base(t.of as SchemaType, false)} }`;
      }
    };
    let text = base(field.type, true);
    if (field.type.nullable || (rules.nullableJsonFields[record] ?? []).includes(field.name)) text += ' | null';
    return [normalize(text)];
  };

  for (const record of exposedRecords) {
    const props = ts_.interfaces.get(record);
    if (!props) {
      problems.push(`record ${record}: no interface ${record} in definitions.ts (add it, or list it under notExposed in bridge-rules.json)`);
      continue;
    }
    const fields = schema.records[record];
    const rustNames = new Set(fields.map((f) => f.name));
    const missing = setDiff(rustNames, new Set(props.keys()));
    const extra = setDiff(props.keys(), rustNames);
    for (const m of missing) problems.push(`${record}.${m}: field of the Rust record is missing in definitions.ts`);
    for (const e of extra) problems.push(`${record}.${e}: field in definitions.ts is not in the Rust record`);
    for (const field of fields) {
      const prop = props.get(field.name);
      if (!prop) continue;
      const [want] = expectedType(record, field);
      if (prop.type !== want) {
        problems.push(`${record}.${field.name}: definitions.ts says '${prop.type}', the Rust record means '${want}'`);
      }
      const mayBeOptional = field.hasDefault || (rules.pluginDefaults[record] ?? []).includes(field.name);
      if (prop.optional && !mayBeOptional) {
        problems.push(`${record}.${field.name}: optional in definitions.ts, but the Rust record has no default`);
      }
      if (!prop.optional && field.hasDefault) {
        problems.push(`${record}.${field.name}: has a default in Rust, so it should be optional ('?') in definitions.ts`);
      }
    }
  }

  for (const name of exposedEnums) {
    const alias = ts_.aliases.get(name);
    const values = alias ? stringUnion(alias) : null;
    if (!values) {
      problems.push(`enum ${name}: definitions.ts has no type ${name} that is a union of strings`);
      continue;
    }
    const want = new Set(schema.enums[name].map(enumValue));
    for (const m of setDiff(want, new Set(values))) problems.push(`${name}: value '${m}' of the Rust enum is missing in definitions.ts`);
    for (const e of setDiff(values, want)) problems.push(`${name}: value '${e}' in definitions.ts is not in the Rust enum`);
  }

  const codeAlias = ts_.aliases.get(rules.errorType);
  const codes = codeAlias ? stringUnion(codeAlias) : null;
  if (!codes) {
    problems.push(`definitions.ts has no type ${rules.errorType} that is a union of strings`);
  } else {
    const want = new Set([...Object.values(schema.errors).flat().map(errorCode), ...rules.pluginErrorCodes]);
    for (const m of setDiff(want, new Set(codes))) problems.push(`${rules.errorType}: code '${m}' is missing in definitions.ts`);
    for (const e of setDiff(codes, want)) problems.push(`${rules.errorType}: code '${e}' is neither an engine error nor a plugin code`);
  }
  return problems;
}
