// The shape of src/ (src/README.md, "How a training run flows"): folders are layers in the
// order data flows, and a file imports only from its own layer or the ones before it (model
// never imports train; train never imports analysis, viz or report). Files stay short enough
// to read in one sitting, and unchecked `as unknown as` casts stay rare and explained.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const SRC = path.join(__dirname, '..', 'src');

/** The layers, first to last; a sub-folder (data/scenes, embeddings/bert) belongs to its parent's layer. */
const LAYERS = ['common', 'compute', 'tracking', 'config', 'data', 'metrics', 'encoders', 'embeddings', 'model', 'train', 'sweeps', 'analysis', 'viz', 'report', 'notebooks', 'cli', '(index)'];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The layer of a file under src/, or undefined for a path outside src/. */
function layerOf(file: string): string | undefined {
  const relative = path.relative(SRC, file);
  if (relative.startsWith('..')) return undefined;
  const parts = relative.split(path.sep);
  return parts.length === 1 ? '(index)' : parts[0];
}

/** Relative module paths a file imports (static, dynamic and require). */
function importsOf(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)'(\.[^']*)'/gm)) found.push(m[1]);
  return found;
}

function resolveModule(from: string, spec: string): string {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) if (fs.existsSync(candidate)) return candidate;
  return base;
}

const files = sourceFiles(SRC);

test('every folder of src/ is a known layer', () => {
  const unknown = [...new Set(files.map(layerOf))].filter((l) => !LAYERS.includes(l!));
  assert.deepEqual(unknown, [], `add the folder to LAYERS here and to src/README.md's walk-through`);
});

test('no file imports from a layer after its own', () => {
  const violations: string[] = [];
  for (const file of files) {
    const own = LAYERS.indexOf(layerOf(file)!);
    for (const spec of importsOf(fs.readFileSync(file, 'utf8'))) {
      const target = layerOf(resolveModule(file, spec));
      if (target !== undefined && LAYERS.indexOf(target) > own) violations.push(`${path.relative(SRC, file)} imports ${spec} (${target} comes after ${LAYERS[own]})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the import check sees a violation when there is one', () => {
  // The check above would pass vacuously if importsOf found nothing: it must find model -> train in a made-up file.
  const fake = path.join(SRC, 'model', 'fake.ts');
  const specs = importsOf("import { Trainer } from '../train/trainer';\nimport type { X } from './attention';\nconst m = require('../analysis/verdict');");
  assert.deepEqual(specs, ['../train/trainer', './attention', '../analysis/verdict']);
  assert.equal(layerOf(resolveModule(fake, specs[0])), 'train');
  assert.ok(LAYERS.indexOf('train') > LAYERS.indexOf('model'));
  assert.ok(files.length > 50 && files.some((f) => importsOf(fs.readFileSync(f, 'utf8')).length > 0));
});

test('no file in src/ is over 400 lines', () => {
  const long = files.map((f) => [path.relative(SRC, f), fs.readFileSync(f, 'utf8').split('\n').length] as const).filter(([, n]) => n > 400);
  assert.deepEqual(long, []);
});

test('at most 4 `as unknown as` casts in src/, each with a comment saying why', () => {
  const casts: string[] = [];
  for (const file of files) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '');
      const count = code.split(' as unknown as ').length - 1;
      const explained = /\/\/.*as unknown as/.test(line) || /\/\/.*as unknown as/.test(lines[i - 1] ?? '');
      for (let k = 0; k < count; k++) casts.push(`${path.relative(SRC, file)}:${i + 1}${explained ? '' : ' (no comment saying why)'}`);
    });
  }
  assert.ok(casts.length <= 4, `${casts.length} casts: ${casts.join(', ')}`);
  assert.deepEqual(casts.filter((c) => c.includes('no comment')), []);
});
