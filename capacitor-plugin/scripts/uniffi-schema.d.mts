import type { Schema, SchemaType } from '../test/type-contract';

export function defaultKotlinPath(): string;
export function parseType(text: string): SchemaType;
export function extractSchema(kotlinSource: string): Schema;
