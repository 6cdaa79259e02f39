// `captioning train` through the command line: the same content under another --name loads
// the existing run (found from its fingerprints, before any data is prepared) and makes no
// second run folder.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { tinyRunOverrides } from '../train/tiny-run';

const ROOT = path.resolve(__dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-train-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function captioning(...args: string[]): { code: number; stdout: string; stderr: string } {
  const env = { ...process.env, CAPTIONING_RESULTS: path.join(tmp, 'results'), CAPTIONING_BACKEND: 'wasm' };
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'captioning.js'), ...args], { encoding: 'utf8', timeout: 300_000, env });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('the same content under another --name is loaded, not trained again, and no second folder appears', () => {
  const config = path.join(tmp, 'tiny.json');
  fs.writeFileSync(
    config,
    JSON.stringify(tinyRunOverrides(path.join(tmp, 'scenes'), { seed: 6 })),
  );
  const first = captioning('train', '--config', config, '--name', 'first-name');
  assert.equal(first.code, 0, first.stderr);
  const [printed, folder] = first.stdout.trim().split('\n');
  assert.match(printed, /^trained run first-name-[0-9a-f]{12}$/);

  const second = captioning('train', '--config', config, '--name', 'second-name');
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout.trim(), `loaded run ${printed.split(' ')[2]}\n${folder}`);
  assert.doesNotMatch(second.stderr, /training 1 epoch|epoch 1\/1/, 'nothing trained');
  const folders = fs.readdirSync(path.join(tmp, 'results', 'runs')).filter((n) => !n.startsWith('.'));
  assert.deepEqual(folders, [path.basename(folder)]);
  const record = JSON.parse(fs.readFileSync(path.join(folder, 'config.json'), 'utf8')) as { aliases: string[] };
  assert.deepEqual(record.aliases, ['first-name', 'second-name']);
});
