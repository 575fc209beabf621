// The helpers of the browser suite that need no browser: bounded waits, a free port, and the
// reference server on loopback with its admin routes. run.mjs re-exports them for the suite;
// examples/till-app (its end-to-end test and `make demo-web`) imports them from here.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SERVER_BIN = process.env.POS_SYNC_SERVER_BIN ?? path.join(ROOT, 'target/debug/pos-sync-server');
export const ADMIN = 'admin-secret-token';
export const TOKEN = 'tok-web-till-1';
export const DEVICE = 'web-till-1';
export const STORE = 'S1';

/** `promise`, or a failure naming what was awaited once `ms` have passed: the suite fails, never hangs. */
export function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `condition` every 5 ms until it holds, failing after `ms` with `what`. */
export async function until(condition, ms, what) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The reference server on a fixed port, so that it can be stopped and started again. */
export class ReferenceServer {
  constructor(dir, port) {
    this.port = port;
    this.db = path.join(dir, 'server.db');
    this.tokens = path.join(dir, 'tokens');
    fs.writeFileSync(this.tokens, `${TOKEN} ${DEVICE} ${STORE}\n`);
  }
  async start() {
    this.child = spawn(SERVER_BIN, ['--listen', `127.0.0.1:${this.port}`, '--db', this.db, '--tokens', this.tokens,
      '--admin-token', ADMIN, '--rate-limit', '100000'],
    // Warnings only: a line per upload batch would bury the suite's own steps.
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, POS_SYNC_LOG: process.env.POS_SYNC_LOG ?? 'warn' } });
    const [line] = await within(once(this.child.stdout, 'data'), 30_000, 'the reference server to print its address');
    assert.match(line.toString(), /^http:\/\/127\.0\.0\.1:/);
  }
  async stop() {
    if (!this.child) return;
    this.child.kill('SIGTERM');
    await within(once(this.child, 'exit'), 30_000, 'the reference server to exit');
    this.child = undefined;
  }
  async admin(route, init = {}) {
    const r = await fetch(`http://127.0.0.1:${this.port}${route}`, {
      ...init, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...init.headers },
    });
    assert.ok(r.ok, `${route}: HTTP ${r.status} ${await r.clone().text()}`);
    return r.json();
  }
}
