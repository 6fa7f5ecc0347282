// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// What every browser scenario shares: where the server is, where to write
// screenshots, and numbered steps that report ok or FAIL. run.sh sets
// BASE_URL and OUT_DIR.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const base = process.env.BASE_URL || 'http://127.0.0.1:8080';
export const outDir = process.env.OUT_DIR || mkdtempSync(path.join(tmpdir(), 'opencoop-browser-'));

let passed = 0;
let failed = 0;

// step runs one named step, prints ok or FAIL, and rethrows a failure so
// the scenario stops there.
export async function step(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}\n     ${String(err && err.message || err).split('\n').join('\n     ')}`);
    throw err;
  }
}

export function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}

export async function expectStatus(resp, want, what) {
  expect(resp && resp.status() === want, `${what}: status ${resp && resp.status()}, want ${want}`);
}

// finish prints the tally and exits non-zero unless every step passed.
export function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}
