/*
 * The part of wasm-bindgen's glue (written by scripts/build-web.sh next to the worker in
 * dist/esm/web/) that the worker uses; web/src/lib.rs defines it.
 */
export class WebEngine {
  private constructor();
  free(): void;
  static start(
    host: { emit(event: string, dataJson: string): void; hasListeners(event: string): boolean },
    directory: string,
  ): Promise<WebEngine>;
  call(method: string, argsJson: string): Promise<string>;
}
export function rawRecordSales(name: string, salesJson: string): number;
export function rawUpsertProducts(name: string, productsJson: string, perTx: number): number;
export default function init(moduleOrPath?: unknown): Promise<unknown>;
