// `captioning score` end to end: files in, table out, JSON written with the protocol labels,
// and the bad inputs that must be errors naming the file.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');

function captioning(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'captioning.js'), ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function fixture(): { dir: string; annotations: string; write: (name: string, json: unknown) => string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'score-'));
  const write = (name: string, json: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify(json));
    return file;
  };
  const annotations = write('captions_val.json', {
    images: [{ id: 1, file_name: 'a.jpg' }, { id: 2, file_name: 'b.jpg' }],
    annotations: [
      { id: 10, image_id: 1, caption: 'A dog runs on the grass.' },
      { id: 11, image_id: 1, caption: 'A brown dog running across a field.' },
      { id: 12, image_id: 2, caption: 'Two people ride bikes down the street.' },
      { id: 13, image_id: 2, caption: 'People riding bicycles on a road.' },
    ],
  });
  return { dir, annotations, write };
}

test('scores a result file: prints the table and writes JSON with every protocol label', () => {
  const { dir, annotations, write } = fixture();
  const results = write('results.json', [
    { image_id: 1, caption: 'a dog runs on the grass' },
    { image_id: 2, caption: 'two people ride bikes down the street' },
  ]);
  const r = captioning('score', '--annotations', annotations, '--results', results, '--split', 'val', '--protocol', 'free-running', '--beam', '3');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^metric\s+value\s+split\s+protocol\s+beam\s+implementation$/m);
  assert.match(r.stdout, /^BLEU-4\s+1\.0000\s+val\s+free-running\s+3\s+coco-caption$/m);
  assert.match(r.stdout, /^METEOR\s+n\/a\s+.*\(.*Java/m);
  const written = JSON.parse(fs.readFileSync(path.join(dir, 'results.scores.json'), 'utf8'));
  const bleu4 = written.metrics.find((m: { name: string }) => m.name === 'BLEU-4');
  assert.ok(bleu4.value > 0.9999 && bleu4.value <= 1, `BLEU-4 of exact matches: ${bleu4.value}`);
  assert.deepEqual(
    { split: bleu4.split, protocol: bleu4.protocol, beam: bleu4.beam, implementation: bleu4.implementation },
    { split: 'val', protocol: 'free-running', beam: 3, implementation: 'coco-caption' },
  );
  assert.equal(written.perImage.length, 2);
});

test('a result for an unknown image is an error naming the result file and the id', () => {
  const { annotations, write } = fixture();
  const results = write('bad.json', [
    { image_id: 1, caption: 'a dog' },
    { image_id: 2, caption: 'people' },
    { image_id: 99, caption: 'a cat' },
  ]);
  const r = captioning('score', '--annotations', annotations, '--results', results);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.json: 1 entries are for images not in .*captions_val\.json: 99/);
});

test('missing images are an error unless --subset, which says what was scored', () => {
  const { annotations, write } = fixture();
  const results = write('part.json', [{ image_id: 2, caption: 'people riding bicycles on a road' }]);
  const refused = captioning('score', '--annotations', annotations, '--results', results);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /no caption for 1 of the 2 images/);
  assert.match(refused.stderr, /captioning score --subset/, 'the message names the command line flag, not only the API option');
  const subset = captioning('score', '--annotations', annotations, '--results', results, '--subset');
  assert.equal(subset.code, 0, subset.stderr);
  assert.match(subset.stdout, /subset: 1 of 2 images scored/);
});

test('a --beam that is not a whole number >= 1 is an error naming the flag and the value', () => {
  const { annotations, write } = fixture();
  const results = write('results.json', [
    { image_id: 1, caption: 'a dog runs on the grass' },
    { image_id: 2, caption: 'two people ride bikes down the street' },
  ]);
  for (const bad of ['abc', '0', '2.5', '']) {
    const r = captioning('score', '--annotations', annotations, '--results', results, '--beam', bad);
    assert.equal(r.code, 1, `--beam ${JSON.stringify(bad)}`);
    assert.ok(r.stderr.includes('--beam must be a whole number >= 1'), r.stderr);
    assert.ok(r.stderr.includes(`got ${JSON.stringify(bad)}`), r.stderr);
    assert.doesNotMatch(r.stderr, /got null/);
  }
});
