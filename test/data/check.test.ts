// Dataset statistics, the dataset check, and the `captioning data scenes|check` commands
// (called through dataCommand().parseAsync, as main.ts will once it is wired in).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, before, test } from 'node:test';

import { dataCommand } from '../../src/cli/data';
import { checkDataset, DEFAULT_DECODE_SAMPLE, datasetStatistics, formatCheck, lengthPercentiles } from '../../src/data/check';
import { loadKarpathy } from '../../src/data/karpathy';
import { FIXTURES, makeFixtureImages, tempDir } from './helpers';

let root: string;
const tiny = path.join(FIXTURES, 'karpathy', 'dataset_tiny.json');
before(async () => {
  root = await makeFixtureImages();
});
afterEach(() => {
  process.exitCode = undefined;
});

/** Runs `captioning data ...` and returns its output and exit code. */
async function run(args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  process.exitCode = undefined;
  await dataCommand({ out: (t) => (out += t), err: (t) => (err += t) }).parseAsync(args, { from: 'user' });
  const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  process.exitCode = undefined;
  return { out, err, code };
}

test('length percentiles use the nearest rank', () => {
  const p = lengthPercentiles([5, 1, 3, 2, 4, 6, 7, 8, 9, 10]);
  assert.deepEqual([p.min, p.p5, p.p25, p.p50, p.p75, p.p95, p.max, p.mean], [1, 1, 3, 5, 8, 10, 10, 5.5]);
});

test('statistics of the tiny fixture: splits, captions per image, lengths, vocabulary on train', () => {
  const stats = datasetStatistics(loadKarpathy(tiny, { imagesRoot: root }), { minCount: 2 });
  assert.deepEqual(stats.splits, { train: { images: 3, captions: 5 }, val: { images: 1, captions: 2 }, test: { images: 1, captions: 1 } });
  assert.deepEqual(stats.captionsPerImage.histogram, { 1: 2, 2: 3 });
  assert.equal(stats.captionsPerImage.mean, 8 / 5);
  assert.deepEqual(stats.lengthHistogram.val, [0, 0, 0, 1, 1]);
  // train words with count >= 2: a, dog, on, grass, the, zebra
  assert.equal(stats.vocabulary.size, 6);
  assert.equal(stats.vocabulary.coverage.test, 3 / 5, 'two, dogs unknown; on, the, grass known');
});

test('checkDataset: a good dataset is usable; a missing image and a corrupt image are problems naming the file', async () => {
  const good = await checkDataset(tiny, root);
  assert.equal(good.usable, true, formatCheck(good));
  assert.equal(good.decoded.checked, 5);
  assert.deepEqual(good.decoded, { checked: 5, failed: 0, of: 5, requested: DEFAULT_DECODE_SAMPLE }, 'by default a seeded sample, here larger than the dataset');

  const broken = tempDir('broken');
  fs.cpSync(root, broken, { recursive: true });
  fs.writeFileSync(path.join(broken, 'val2014', 'd.png'), 'not a png');
  fs.rmSync(path.join(broken, 'val2014', 'e.png'));
  const result = await checkDataset(tiny, broken);
  assert.equal(result.usable, false);
  assert.ok(result.problems.some((p) => /field "filepath\/filename": image file not found: .*e\.png/.test(p)), result.problems.join('\n'));
  assert.ok(result.problems.some((p) => /cannot decode image .*d\.png/.test(p)), result.problems.join('\n'));
  assert.equal(result.decoded.failed, 1);
  // Lenient: the missing image becomes a warning, the undecodable one stays a problem.
  const lenient = await checkDataset(tiny, broken, { mode: 'lenient' });
  assert.equal(lenient.problems.length, 1);
  assert.ok(lenient.warnings.some((w) => /^skipped image: .*e\.png/.test(w)), lenient.warnings.join('\n'));
  assert.ok(lenient.warnings.includes('no test images'));
  const sample = await checkDataset(tiny, root, { decode: 2 });
  assert.equal(sample.decoded.checked, 2);
});

test('captioning data check prints statistics and exits 0, or lists problems and exits 1', async () => {
  const ok = await run(['check', '--dataset', tiny, '--images', root, '--min-count', '1']);
  assert.equal(ok.code, 0);
  assert.match(ok.out, /train\s+3\s+5/);
  assert.match(ok.out, /caption length \(words\): min 3, .*max 7/);
  assert.match(ok.out, /usable: yes/);

  const bad = await run(['check', '--dataset', path.join(FIXTURES, 'karpathy', 'bad-split.json'), '--images', root]);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /problems \(1\):\n.*field "split": must be one of train, restval, val, test, found "dev"/);
  assert.match(bad.out, /usable: NO/);

  const notJson = await run(['check', '--dataset', path.join(FIXTURES, 'karpathy', 'bad-not-json.json'), '--images', root, '--json']);
  assert.equal(notJson.code, 1);
  assert.equal(JSON.parse(notJson.out).usable, false);

  await assert.rejects(run(['check', '--dataset', tiny, '--images', root, '--decode', 'some']), /--decode \(or 'all', 'none'\) must be a whole number >= 1, got "some"/);
  await assert.rejects(run(['check', '--dataset', tiny, '--images', root, '--restval', 'test']), /--restval must be one of train, val, drop, got "test"/);
});

test('captioning data scenes generates, then reuses, and the result passes the check', async () => {
  const out = path.join(tempDir('cli'), 'scenes');
  const made = await run(['scenes', '--out', out, '--images', '10', '--seed', '4', '--size', '48', '--occlusion', '0.5']);
  assert.match(made.out, /^generated .*scenes in/);
  assert.match(made.out, /images 10 \(train 8, val 1, test 1\), 50 captions, 48 px, seed 4, occlusion 0\.5/);
  assert.match(made.err, /scenes: generating 10 images of 48 px/);
  const again = await run(['scenes', '--out', out, '--images', '10', '--seed', '4', '--size', '48', '--occlusion', '0.5']);
  assert.match(again.out, /^reused /);
  const check = await run(['check', '--dataset', path.join(out, 'dataset_scenes.json'), '--images', out]);
  assert.equal(check.code, 0, check.out);
  assert.match(check.out, /images decoded: 10, failed: 0\n/);
  // --decode N decodes a seeded sample and says so; all decodes every image.
  const sample = await run(['check', '--dataset', path.join(out, 'dataset_scenes.json'), '--images', out, '--decode', '3']);
  assert.match(sample.out, /images decoded: 3, failed: 0 \(a seeded sample of 3 of the 10 images; decode 'all', --decode all, for every one\)/);
  const all = await run(['check', '--dataset', path.join(out, 'dataset_scenes.json'), '--images', out, '--decode', 'all', '--json']);
  assert.deepEqual(JSON.parse(all.out).decoded, { checked: 10, failed: 0, of: 10, requested: 'all' });
  const none = await run(['check', '--dataset', path.join(out, 'dataset_scenes.json'), '--images', out, '--decode', 'none']);
  assert.match(none.out, /images decoded: 0, failed: 0 \(decoding skipped\)/);
  await assert.rejects(run(['scenes', '--out', out, '--images', 'ten']), /--images must be a whole number >= 1, got "ten"/);
  await assert.rejects(run(['scenes', '--out', out, '--occlusion', '1.5']), /--occlusion must be a probability in \[0, 1\], got "1\.5"/);
  await assert.rejects(run(['scenes']), /required option '--out <dir>' not specified/);
});

test('captioning data check decodes a seeded sample by default (not all of a COCO-sized set), and its help says so', async () => {
  assert.ok(Number.isInteger(DEFAULT_DECODE_SAMPLE) && DEFAULT_DECODE_SAMPLE >= 100 && DEFAULT_DECODE_SAMPLE <= 5000, String(DEFAULT_DECODE_SAMPLE));
  const checked = await run(['check', '--dataset', tiny, '--images', root, '--json']);
  assert.equal(checked.code, 0);
  assert.deepEqual(JSON.parse(checked.out).decoded, { checked: 5, failed: 0, of: 5, requested: DEFAULT_DECODE_SAMPLE });
  let help = '';
  await assert.rejects(
    dataCommand({ out: (t) => (help += t), err: (t) => (help += t) }).parseAsync(['check', '--help'], { from: 'user' }),
    (error: { code?: string }) => error.code === 'commander.helpDisplayed',
  );
  assert.match(help.replace(/\s+/g, ' '), new RegExp(`--decode <which> images to decode: a seeded sample of N .*'all' .*'none' \\(default: "${DEFAULT_DECODE_SAMPLE}"\\)`));
});
