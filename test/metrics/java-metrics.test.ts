// METEOR and SPICE through Java: the toolkit's command lines and stdio protocol. No jar is
// available here, so a stand-in "java" (a shell script running a small Node program) plays
// the jars' side of the protocol and records what it was sent.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import {
  isMetricScore,
  meteorCommand,
  meteorEvalLine,
  meteorScoreLine,
  parseSpiceOutput,
  resolveJar,
  scoreCaptions,
  spiceCommand,
  spiceInput,
  type ImageId,
} from '../../src/metrics';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'java-metrics-test-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('METEOR command line is the toolkit\'s, run from the jar\'s folder', () => {
  assert.deepEqual(meteorCommand('/usr/bin/java', '/opt/meteor/meteor-1.5.jar'), {
    command: '/usr/bin/java',
    args: ['-jar', '-Xmx2G', '/opt/meteor/meteor-1.5.jar', '-', '-', '-stdio', '-l', 'en', '-norm'],
    cwd: '/opt/meteor',
  });
});

test('METEOR SCORE and EVAL lines: references then hypothesis, ||| removed, double spaces collapsed', () => {
  assert.equal(meteorScoreLine('a dog runs', ['a dog', 'the dog runs']), 'SCORE ||| a dog ||| the dog runs ||| a dog runs');
  // Python's replace: every "|||" goes, then every pair of spaces becomes one (one pass)
  assert.equal(meteorScoreLine('a ||| b    c', ['r']), 'SCORE ||| r ||| a b  c');
  assert.equal(meteorScoreLine('a    b', ['r']), 'SCORE ||| r ||| a  b');
  assert.equal(meteorEvalLine(['1 2 3', '4 5 6']), 'EVAL ||| 1 2 3 ||| 4 5 6');
});

test('SPICE command line, with and without a cache folder', () => {
  assert.deepEqual(spiceCommand('java', '/opt/spice/spice-1.0.jar', '/tmp/in.json', '/tmp/out.json'), {
    command: 'java',
    args: ['-jar', '-Xmx8G', '/opt/spice/spice-1.0.jar', '/tmp/in.json', '-out', '/tmp/out.json', '-subset', '-silent'],
    cwd: '/opt/spice',
  });
  assert.deepEqual(spiceCommand('java', '/s/spice-1.0.jar', 'i', 'o', '/c').args, ['-jar', '-Xmx8G', '/s/spice-1.0.jar', 'i', '-cache', '/c', '-out', 'o', '-subset', '-silent']);
});

test('SPICE input is sorted by image id; output f values, null as NaN', () => {
  const input = spiceInput([30, 4, 100], [['r30'], ['r4'], ['r100']], ['h30', 'h4', 'h100']);
  assert.deepEqual(input.map((i) => i.image_id), [4, 30, 100]);
  assert.deepEqual(input[0], { image_id: 4, test: 'h4', refs: ['r4'] });
  const out = parseSpiceOutput(
    [
      { image_id: 4, scores: { All: { f: 0.5, pr: 0.5, re: 0.5 } } },
      { image_id: 30, scores: { All: { f: 0.25 } } },
    ],
    'out.json',
  );
  assert.equal(out.corpus, 0.375);
  assert.equal(out.perImage.get(30), 0.25);
  const withNull = parseSpiceOutput([{ image_id: 1, scores: { All: { f: null } } }], 'out.json');
  assert.ok(Number.isNaN(withNull.corpus));
});

test('jar resolution: options override the environment; missing settings give a reason', () => {
  const jar = path.join(dir, 'meteor-1.5.jar');
  fs.writeFileSync(jar, '');
  assert.deepEqual(resolveJar('METEOR', { env: { CAPTIONING_METEOR_JAR: jar } }), { available: true, java: 'java', jar });
  assert.deepEqual(resolveJar('METEOR', { env: { CAPTIONING_METEOR_JAR: jar, CAPTIONING_JAVA: '/jdk/bin/java' } }), {
    available: true,
    java: '/jdk/bin/java',
    jar,
  });
  const missing = resolveJar('SPICE', { env: {}, spiceJar: path.join(dir, 'none.jar') });
  assert.equal(missing.available, false);
  assert.match(missing.available ? '' : missing.reason, /SPICE jar not found: .*none\.jar \(from options\.java\)/);
  const unset = resolveJar('SPICE', { env: {} });
  assert.match(unset.available ? '' : unset.reason, /set CAPTIONING_SPICE_JAR/);
});

// A stand-in for java + the two jars. METEOR: answers each SCORE line with "stats <n refs>",
// then EVAL with one score per image (0.1, 0.2, ...) and a corpus score 0.42. SPICE: f =
// number of words of the hypothesis / 10. Both log what they received.
const FAKE = `
const fs = require('fs');
const path = require('path');
const args = process.argv.slice(2);
const log = (f, x) => fs.appendFileSync(path.join(${JSON.stringify(dir)}, f), JSON.stringify(x) + '\\n');
log('args.log', { args, cwd: process.cwd() });
if (args[2].endsWith('meteor-1.5.jar')) {
  let buf = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\\n')) >= 0) {
      const line = buf.slice(0, nl); buf = buf.slice(nl + 1);
      log('meteor.log', line);
      const parts = line.split(' ||| ');
      if (parts[0] === 'SCORE') process.stdout.write('stats ' + (parts.length - 2) + '\\n');
      else if (parts[0] === 'EVAL') {
        parts.slice(1).forEach((_, i) => process.stdout.write((0.1 * (i + 1)).toFixed(1) + '\\n'));
        process.stdout.write('0.42\\n');
      }
    }
  });
} else {
  const input = JSON.parse(fs.readFileSync(args[3], 'utf8'));
  log('spice.log', input);
  const out = input.map((x) => ({ image_id: x.image_id, scores: { All: { f: x.test.split(' ').length / 10, pr: 0, re: 0 } } }));
  fs.writeFileSync(args[args.indexOf('-out') + 1], JSON.stringify(out));
}
`;

test('scoreCaptions runs METEOR and SPICE through the configured java, speaking their protocols', { skip: process.platform === 'win32' }, async () => {
  const jarDir = path.join(dir, 'jars');
  fs.mkdirSync(jarDir);
  const meteorJar = path.join(jarDir, 'meteor-1.5.jar');
  const spiceJar = path.join(jarDir, 'spice-1.0.jar');
  fs.writeFileSync(meteorJar, '');
  fs.writeFileSync(spiceJar, '');
  fs.writeFileSync(path.join(dir, 'fake-java.js'), FAKE);
  const java = path.join(dir, 'java');
  fs.writeFileSync(java, `#!/bin/sh\nexec "${process.execPath}" "${path.join(dir, 'fake-java.js')}" "$@"\n`, { mode: 0o755 });

  const refs = new Map<ImageId, string[]>([
    [20, ['A dog runs.', 'A brown dog running!']],
    [10, ['Two cats (sleeping).']],
  ]);
  const hyps = new Map<ImageId, string>([
    [20, 'A dog is running.'],
    [10, 'Two cats sleep on a bed.'],
  ]);
  const scores = await scoreCaptions(refs, hyps, { java: { java, meteorJar, spiceJar, env: {} }, split: 'val' });

  const meteor = scores.metrics.find((m) => m.name === 'METEOR');
  const spice = scores.metrics.find((m) => m.name === 'SPICE');
  assert.ok(meteor && isMetricScore(meteor), JSON.stringify(meteor));
  assert.ok(spice && isMetricScore(spice), JSON.stringify(spice));
  assert.equal(meteor.value, 0.42); // the jar's own corpus line
  assert.equal(meteor.split, 'val');
  assert.deepEqual(scores.perImage.map((p) => p.scores.METEOR), [0.1, 0.2]);
  // SPICE: "a dog is running" 4 words -> 0.4, "two cats sleep on a bed" 6 -> 0.6; mean 0.5
  assert.deepEqual(scores.perImage.map((p) => p.scores.SPICE), [0.4, 0.6]);
  assert.equal(spice.value, 0.5);

  // what the "jars" received: tokenized captions, toolkit order and syntax
  const meteorLines = fs.readFileSync(path.join(dir, 'meteor.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(meteorLines, [
    'SCORE ||| a dog runs ||| a brown dog running ||| a dog is running',
    'SCORE ||| two cats -lrb- sleeping -rrb- ||| two cats sleep on a bed',
    'EVAL ||| stats 2 ||| stats 1',
  ]);
  const spiceInputs = JSON.parse(fs.readFileSync(path.join(dir, 'spice.log'), 'utf8'));
  assert.deepEqual(spiceInputs, [
    { image_id: 10, test: 'two cats sleep on a bed', refs: ['two cats -lrb- sleeping -rrb-'] },
    { image_id: 20, test: 'a dog is running', refs: ['a dog runs', 'a brown dog running'] },
  ]);
  const calls = fs.readFileSync(path.join(dir, 'args.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(calls[0], { args: ['-jar', '-Xmx2G', meteorJar, '-', '-', '-stdio', '-l', 'en', '-norm'], cwd: jarDir });
  assert.equal(calls[1].cwd, jarDir);
  assert.deepEqual(calls[1].args.slice(0, 3), ['-jar', '-Xmx8G', spiceJar]);
  assert.deepEqual(calls[1].args.slice(4), ['-out', calls[1].args[5], '-subset', '-silent']);
});

test('a jar that fails is reported unavailable with its error, other scores still come', { skip: process.platform === 'win32' }, async () => {
  const jar = path.join(dir, 'broken', 'meteor-1.5.jar');
  fs.mkdirSync(path.dirname(jar));
  fs.writeFileSync(jar, '');
  const java = path.join(dir, 'failing-java');
  fs.writeFileSync(java, '#!/bin/sh\necho "Error: Unable to access jarfile" >&2\nexit 1\n', { mode: 0o755 });
  const scores = await scoreCaptions(new Map([[1, ['a dog']]]), new Map([[1, 'a dog']]), {
    metrics: ['BLEU', 'METEOR'],
    java: { java, meteorJar: jar, env: {} },
  });
  const meteor = scores.metrics.find((m) => m.name === 'METEOR');
  assert.ok(meteor && !isMetricScore(meteor));
  assert.match(meteor.reason, /METEOR failed: METEOR exited \(code 1\) before answering: Error: Unable to access jarfile/);
  assert.equal(scores.metrics.filter(isMetricScore).length, 4);
});
