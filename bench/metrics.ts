/**
 * Caption metrics speed: `scoreCaptions` (tokenization, BLEU-1..4, ROUGE-L, CIDEr-D; no
 * Java) on a COCO-sized test split: 5,000 images, 5 references each, one hypothesis each,
 * captions of 8-14 words from a 1,000-word vocabulary with Zipf-like frequencies (seeded).
 * Median of 5 runs after a warm-up. Goal: under 2 s on the 2-core reference machine.
 *
 * Also the paired bootstrap (src/analysis/bootstrap.ts) on the same test split: one seed a
 * side (the corpus's hypotheses against a second corpus's, same references), 1,000
 * resamples of BLEU-4 and CIDEr-D, timed once (tokenization excluded, encoding included),
 * on one thread and on every core (src/analysis/bootstrap-threads.ts, the same numbers).
 *
 *   npx tsx bench/metrics.ts
 */
import { createRng } from '../src/common/random';
import * as os from 'os';

import { pairedBootstrapThreads } from '../src/analysis/bootstrap-threads';
import { scoreCaptions, tokenizeCaptions, type ImageId, type ScoreOptions } from '../src/metrics';

const IMAGES = 5000;
const REFERENCES = 5;
const VOCABULARY = 1000;
const RUNS = 5;

/** Made-up words (consonant-vowel syllables), the most frequent few being real ones. */
function vocabulary(random: () => number): string[] {
  const common = ['a', 'the', 'of', 'on', 'in', 'with', 'and', 'is', 'man', 'sitting', 'two', 'standing',
    'people', 'to', 'next', 'white', 'an', 'at', 'street', 'table', 'woman', 'holding', 'top', 'down'];
  const cons = 'bcdfghklmnprstvwz';
  const vow = 'aeiou';
  const words = new Set(common);
  while (words.size < VOCABULARY) {
    let w = '';
    const syllables = 1 + Math.floor(random() * 3);
    for (let s = 0; s < syllables; s++) w += cons[Math.floor(random() * cons.length)] + vow[Math.floor(random() * vow.length)];
    words.add(w);
  }
  return [...words];
}

/** Draws word ranks with probability proportional to 1/(rank+1) (Zipf, exponent 1). */
function zipfSampler(random: () => number, n: number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < n; r++) cdf[r] = total += 1 / (r + 1);
  return () => {
    const u = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** The benchmark's data set: raw captions, some capitalised and ending with a period. */
export function makeCaptionCorpus(seed = 1): {
  references: Map<ImageId, string[]>;
  hypotheses: Map<ImageId, string>;
} {
  const generator = createRng(`bench-metrics:${seed}`);
  const random = () => generator.next();
  const words = vocabulary(random);
  const draw = zipfSampler(random, words.length);
  const sentence = (topic: string[]): string => {
    const length = 8 + Math.floor(random() * 7);
    const out: string[] = [];
    for (let i = 0; i < length; i++) out.push(random() < 0.3 ? topic[Math.floor(random() * topic.length)] : words[draw()]);
    let s = out.join(' ');
    if (random() < 0.5) s = s[0].toUpperCase() + s.slice(1);
    if (random() < 0.5) s += '.';
    return s;
  };
  const references = new Map<ImageId, string[]>();
  const hypotheses = new Map<ImageId, string>();
  for (let i = 0; i < IMAGES; i++) {
    const id = 100000 + i * 7;
    const topic = [words[draw()], words[draw()], words[draw()]];
    references.set(id, Array.from({ length: REFERENCES }, () => sentence(topic)));
    hypotheses.set(id, sentence(topic));
  }
  return { references, hypotheses };
}

export async function benchMetrics(): Promise<{ name: string; medianMs: number; runs: number; images: number }> {
  const { references, hypotheses } = makeCaptionCorpus();
  const options: ScoreOptions = { metrics: ['BLEU', 'ROUGE-L', 'CIDEr-D'], split: 'bench' };
  await scoreCaptions(references, hypotheses, options); // warm-up
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const start = process.hrtime.bigint();
    await scoreCaptions(references, hypotheses, options);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { name: 'metrics: scoreCaptions, 5000 images x 5 refs', medianMs: times[Math.floor(RUNS / 2)], runs: RUNS, images: IMAGES };
}

/** The paired bootstrap at COCO size: 5,000 images x 5 references, 1,000 resamples, one seed a side, on `threads` threads (default every core). */
export async function benchBootstrap(resamples = 1000, threads = os.availableParallelism()): Promise<{ name: string; medianMs: number; runs: number; images: number; resamples: number; threads: number }> {
  const [a, b] = [makeCaptionCorpus(1), makeCaptionCorpus(2)];
  const ids = [...a.references.keys()];
  const references = ids.map((id) => tokenizeCaptions(a.references.get(id)!));
  const arm = [tokenizeCaptions(ids.map((id) => a.hypotheses.get(id)!))];
  const reference = [tokenizeCaptions([...b.hypotheses.values()])];
  const start = process.hrtime.bigint();
  await pairedBootstrapThreads({ references, arm, reference }, { resamples, threads });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { name: `paired bootstrap (BLEU-4, CIDEr-D), ${IMAGES} images x ${REFERENCES} refs, ${resamples} resamples, 1 seed a side, ${threads} thread(s)`, medianMs: ms, runs: 1, images: IMAGES, resamples, threads };
}

if (require.main === module) {
  benchMetrics().then(
    (r) => process.stdout.write(`${r.name}: median ${r.medianMs.toFixed(1)} ms over ${r.runs} runs (${r.images} images)\n`),
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
