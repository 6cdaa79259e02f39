// All @tensorflow/* packages are pinned to one exact version: a mismatch installs silently
// with a nested second tfjs-core, and tensors of one are not tensors of the other.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');

test('every @tensorflow dependency is pinned to the same exact version', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const all = { ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.devDependencies } as Record<string, string>;
  const tensorflow = Object.entries(all).filter(([name]) => name.startsWith('@tensorflow/'));
  assert.ok(tensorflow.length >= 4, 'tfjs, the wasm backend and both native backends are declared');
  for (const [name, version] of tensorflow) assert.match(version, /^\d+\.\d+\.\d+$/, `${name} must be pinned exactly, got ${version}`);
  assert.equal(new Set(tensorflow.map(([, version]) => version)).size, 1, `one version for all: ${JSON.stringify(tensorflow)}`);
});

test('exactly one @tensorflow/tfjs-core is installed', () => {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
  const cores = Object.keys(lock.packages).filter((p) => p.endsWith('node_modules/@tensorflow/tfjs-core'));
  assert.deepEqual(cores, ['node_modules/@tensorflow/tfjs-core']);
});
