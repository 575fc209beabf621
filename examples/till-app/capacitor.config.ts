import type { CapacitorConfig } from '@capacitor/cli';

// `npm run build && npx cap add android` (or ios) wraps dist/ in a native shell; the
// plugin's native halves come with capacitor-pos-sync (see its README for the engine's
// Android library and Swift package). Not verified on this Linux machine: see README.md.
const config: CapacitorConfig = {
  appId: 'io.possync.till',
  appName: 'pos-sync Till',
  webDir: 'dist',
};

export default config;
