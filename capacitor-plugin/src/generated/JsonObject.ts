// Written by hand (the other files here are generated from the Rust records by ts-rs: see
// src/bridge/typescript.rs in the pos-sync repository).

/** A JSON object: a document the app stores (sale, customer) or the server sent (product). */
export interface JsonObject {
  [key: string]: unknown;
}
