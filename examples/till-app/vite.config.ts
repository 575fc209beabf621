import { defineConfig } from 'vite';

// The reference server (or your sync server) is proxied under the app's own origin, so the
// browser needs no CORS (the reference server sends none) and the Settings screen's default
// server URL, the page's origin, just works. POS_SYNC_SERVER says where it listens.
const proxy = { '/api': { target: process.env.POS_SYNC_SERVER ?? 'http://127.0.0.1:8080' } };

export default defineConfig({
  // The plugin's worker imports the wasm-bindgen glue as an ES module.
  worker: { format: 'es' },
  // Pre-bundling would move the worker and the .wasm away from their import.meta.url.
  optimizeDeps: { exclude: ['capacitor-pos-sync'] },
  // capacitor-pos-sync is linked from ../../capacitor-plugin, which has its own copy.
  resolve: { dedupe: ['@capacitor/core'] },
  build: { target: 'es2022' },
  server: { proxy },
  preview: { proxy },
});
