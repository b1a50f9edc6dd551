// What the browser tests share: a free port, a real `morelike serve` on a
// fresh data directory, waiting for it, stopping it, and named checks that
// print "N passed, M failed".

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export const BIN = resolve(process.env.MORELIKE_BIN || 'target/debug/morelike');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run'];

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

export async function waitReady(base, child, ms = 120000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode != null) throw new Error(`morelike serve exited with ${child.exitCode}`);
    try { if ((await fetch(`${base}/readyz`)).ok) return; } catch (_) { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`morelike serve was not ready at ${base} within ${ms} ms`);
}

export function serve(port, dataDir, env = {}) {
  return spawn(BIN, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, MORELIKE_LOG: process.env.MORELIKE_LOG || 'warn', ...env },
  });
}

export function stop(child) {
  return new Promise((ok) => {
    if (child.exitCode != null) return ok();
    child.once('exit', () => ok());
    child.kill('SIGTERM');
  });
}

const results = [];

export async function check(name, fn) {
  try { await fn(); results.push([name, true]); console.log(`ok   ${name}`); }
  catch (e) { results.push([name, false]); console.log(`FAIL ${name}\n     ${e.stack || e}`); }
}

export function finish() {
  const passed = results.filter(([, ok]) => ok).length;
  const failed = results.length - passed;
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}
