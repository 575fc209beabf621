#!/usr/bin/env node
// Checks that `npm pack` yields a package a Capacitor 8 app can install: packs the plugin
// (after `npm run build`), checks the tarball's file list, installs it into a scratch app
// (build/pack-app, with this package's own @capacitor/* modules, so no network), runs the
// Capacitor CLI's `add android` and `add ios` there, and checks that the CLI registered the
// plugin: the Gradle project and the PosSyncPlugin class on Android, the SwiftPM package and
// product on iOS. Also loads the package as CommonJS and as an ES module.
//
// The Capacitor 8 CLI refuses Node < 22 in its launcher only; this runs its entry point
// directly so that it works with the Node 20 of this project's machines.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const plugin = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(plugin, 'build/pack');
const app = join(plugin, 'build/pack-app');
const problems = [];
const expect = (ok, what) => {
  if (!ok) problems.push(what);
};

if (!existsSync(join(plugin, 'dist/plugin.cjs.js'))) {
  console.error('pack-check: dist/ is missing: run `npm run build` first');
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
rmSync(app, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// 1. The tarball.
const [packed] = JSON.parse(
  execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: plugin, encoding: 'utf8' }),
);
const files = packed.files.map((f) => f.path).sort();
for (const required of [
  'package.json',
  'README.md',
  'Package.swift',
  'CapacitorPosSync.podspec',
  'android/build.gradle',
  'android/src/main/AndroidManifest.xml',
  'android/src/main/kotlin/io/possync/capacitor/PosSyncPlugin.kt',
  'dist/plugin.cjs.js',
  'dist/plugin.js',
  'dist/esm/index.js',
  'dist/esm/index.d.ts',
  'dist/esm/definitions.d.ts',
  // The web implementation: the worker and the core on WebAssembly (scripts/build-web.sh).
  'dist/esm/web.js',
  'dist/esm/web/worker.js',
  'dist/esm/web/pos_sync_web.js',
  'dist/esm/web/pos_sync_web_bg.wasm',
  'dist/docs.json',
  'ios/Sources/PosSyncPlugin/PosSyncPlugin.swift',
  'ios/Tests/PosSyncPluginTests/PosSyncPluginTests.swift',
]) {
  expect(files.includes(required), `the tarball lacks ${required}`);
}
const allowed = /^(package\.json|README\.md|Package\.swift|CapacitorPosSync\.podspec|android\/build\.gradle|android\/src\/main\/.+|dist\/.+|ios\/Sources\/.+|ios\/Tests\/.+)$/;
for (const f of files) expect(allowed.test(f), `the tarball should not contain ${f}`);

// 2. A scratch app with the tarball installed.
mkdirSync(join(app, 'www'), { recursive: true });
mkdirSync(join(app, 'node_modules/@capacitor'), { recursive: true });
writeFileSync(join(app, 'www/index.html'), '<!doctype html><title>till</title>\n');
writeFileSync(
  join(app, 'package.json'),
  JSON.stringify({
    name: 'till',
    private: true,
    dependencies: {
      '@capacitor/android': '^8.0.0',
      '@capacitor/core': '^8.0.0',
      '@capacitor/ios': '^8.0.0',
      'capacitor-pos-sync': `file:${packed.filename}`,
    },
  }),
);
writeFileSync(join(app, 'capacitor.config.json'), JSON.stringify({ appId: 'com.example.till', appName: 'Till', webDir: 'www' }));
for (const m of ['core', 'android', 'ios', 'cli']) {
  symlinkSync(join(plugin, 'node_modules/@capacitor', m), join(app, 'node_modules/@capacitor', m));
}
const installed = join(app, 'node_modules/capacitor-pos-sync');
mkdirSync(installed, { recursive: true });
execFileSync('tar', ['-xzf', join(out, packed.filename), '-C', installed, '--strip-components=1']);

const cli = join(plugin, 'node_modules/@capacitor/cli/dist/index.js');
for (const platform of ['android', 'ios']) {
  execFileSync(
    process.execPath,
    ['-e', `process.argv = ['node', 'capacitor', 'add', '${platform}']; require(${JSON.stringify(cli)}).run()`],
    { cwd: app, stdio: 'pipe' },
  );
}
const read = (p) => (existsSync(join(app, p)) ? readFileSync(join(app, p), 'utf8') : '');
expect(
  read('android/capacitor.settings.gradle').includes(
    "project(':capacitor-pos-sync').projectDir = new File('../node_modules/capacitor-pos-sync/android')",
  ),
  'Android: the plugin is not a Gradle project of the app',
);
expect(read('android/app/capacitor.build.gradle').includes("implementation project(':capacitor-pos-sync')"), 'Android: the app does not depend on the plugin');
expect(
  read('android/app/src/main/assets/capacitor.plugins.json').includes('"io.possync.capacitor.PosSyncPlugin"'),
  'Android: the CLI did not find the @CapacitorPlugin class',
);
const spm = read('ios/App/CapApp-SPM/Package.swift');
expect(spm.includes('.package(name: "CapacitorPosSync", path: "../../../node_modules/capacitor-pos-sync")'), 'iOS: the plugin is not a SwiftPM dependency of the app');
expect(spm.includes('.product(name: "CapacitorPosSync", package: "CapacitorPosSync")'), 'iOS: the app does not use the plugin product');

// 3. The JavaScript entry points.
const cjs = execFileSync(process.execPath, ['-e', "console.log(typeof require('capacitor-pos-sync').PosSync.recordSale)"], {
  cwd: app,
  encoding: 'utf8',
}).trim();
expect(cjs === 'function', `CommonJS entry: ${cjs}`);
const esm = execFileSync(
  process.execPath,
  ['--input-type=module', '-e', "import { PosSync } from 'capacitor-pos-sync'; console.log(typeof PosSync.syncNow)"],
  { cwd: app, encoding: 'utf8' },
).trim();
expect(esm === 'function', `ES module entry: ${esm}`);

if (problems.length) {
  for (const p of problems) console.error(`pack-check: ${p}`);
  process.exit(1);
}
console.log(
  `pack-check: ${packed.filename} (${files.length} files) installs into a Capacitor 8 app; ` +
    'the CLI registers io.possync.capacitor.PosSyncPlugin (Android) and CapacitorPosSync (iOS, SwiftPM)',
);
