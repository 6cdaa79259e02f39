// The scoring API: exact agreement with the toolkit on a small corpus (golden values printed
// by the Python toolkit itself), protocol labels, METEOR/SPICE availability, input checks.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import {
  computeCaptionMetrics,
  isMetricScore,
  scoreCaptions,
  type ImageId,
  type MetricEntry,
} from '../../src/metrics';

// Eight COCO-style images: raw references and hypotheses (capitals, punctuation, clitics,
// parentheses, an empty hypothesis).
const GOLDEN_IMAGES: { id: number; refs: string[]; hyp: string }[] = [
  { id: 391895, refs: ['A man with a red helmet on a small moped on a dirt road. ', 'Man riding a motor bike on a dirt road on the countryside.', 'A man riding on the back of a motorcycle.', 'A dirt path with a young person on a motor bike rests to the foreground of a verdant area with a bridge and a background of cloud-wreathed mountains. ', 'A man in a red shirt and a red hat is on a motorcycle on a hill side.'], hyp: 'A man riding a motorcycle on a dirt road.' },
  { id: 522418, refs: ['A woman wearing a net on her head cutting a cake. ', 'A woman cutting a large white sheet cake.', 'A woman wearing a hair net cutting a large sheet cake.', 'there is a woman that is cutting a white cake', "A woman marking a cake with the back of a chef's knife. "], hyp: 'A woman is cutting a cake with a knife.' },
  { id: 184613, refs: ['A child holding a flowered umbrella and petting a yak.', 'A young man holding an umbrella next to a herd of cattle.', 'a young boy barefoot holding an umbrella touching the horn of a cow', 'A young boy with an umbrella who is touching the horn of a cow.', 'A boy holding an umbrella while standing next to livestock.'], hyp: 'a boy (with an umbrella) standing next to a cow' },
  { id: 318219, refs: ['A young boy standing in front of a computer keyboard.', 'a little boy wearing headphones and looking at a computer monitor', 'He is listening intently to the computer at school.', 'A young boy stares up at the computer monitor.', 'a young kid with head phones on using a computer '], hyp: "A little boy isn't looking at the computer's screen" },
  { id: 554625, refs: ['a boy wearing headphones using one computer in a long row of computers', 'A little boy with earphones on listening to something.', 'A group of people sitting at desk using computers.', 'Children sitting at computer stations on a long table.', 'A small child wearing headphones plays on the computer.'], hyp: 'children using computers at a long table' },
  { id: 397133, refs: ['A man is in a kitchen making pizzas.', 'Man in apron standing on front of oven with pans and bakeware', 'A baker is working in the kitchen rolling dough.', 'A person standing by a stove in a kitchen.', 'A table with pies being made and a person standing near a wall with pots and pans hanging on it.'], hyp: '' },
  { id: 37777, refs: ['The dining table near the kitchen has a bowl of fruit on it.', 'A small kitchen has various appliances and a table.', 'The kitchen is clean and ready for us to see.', 'A kitchen and dining area decorated in white.', 'A kitchen that has a bowl of fruit on the table.'], hyp: 'A kitchen with a table, chairs, and a bowl of fruit -- very clean!' },
  { id: 87038, refs: ['A person on a skateboard and bike at a skate park.', 'A man on a skateboard performs a trick at the skate park', 'A skateboarder jumps into the air as he performs a skateboard trick.', 'Athletes performing tricks on a BMX bicycle and a skateboard.', 'a man falls off his skateboard in a skate park.'], hyp: 'A man doing a trick on a skateboard at a skate park.' },
];

// What pycocoevalcap 1.2 (salaniz/pycocoevalcap, Python 3, numpy 2.4, glibc 2.36) printed
// for GOLDEN_IMAGES with the CoreNLP 3.4.1 PTBTokenizer, as Python reprs: Bleu(4),
// Rouge(), Cider() compute_score, corpus then per image.
const TOOLKIT = {
  'BLEU-1': ['0.7508024377811399', ['0.9999999997777782', '0.9999999998888891', '0.8333333331944446', '0.7272727271404961', '0.7514772928605784', '0.0', '0.6923076922011837', '0.8333333331944446']],
  'BLEU-2': ['0.6421126412809651', ['0.9999999997708338', '0.7905694149487639', '0.728219081130291', '0.6030226890431458', '0.5313746896830982', '0.0', '0.5883484053221515', '0.728219081130291']],
  'BLEU-3': ['0.4980646927930251', ['0.9499142513674551', '0.6446159946132195', '0.5418533812362262', '0.4323328780825247', '0.34880486111611003', '0.0', '0.3977731738402529', '0.5418533812362262']],
  'BLEU-4': ['0.3027559522677518', ['0.7311104455280607', '8.174063277212731e-05', '6.484115070232633e-05', '5.637560314144947e-05', '5.31374689664437e-05', '0.0', '0.2816609358360817', '0.36462858612813337']],
  'ROUGE-L': ['0.5434980608722009', ['0.6499238964992391', '0.6797198344476282', '0.646969696969697', '0.5513708948478457', '0.6112224448897796', '0.0', '0.507628294036061', '0.7011494252873562']],
  'CIDEr-D': ['1.4158605695542843', ['1.8734934837294401', '2.3242476558466745', '1.7344812669611214', '0.86347469084156', '0.9337644547082801', '0.0', '1.3642532041886755', '2.2331698001585223']],
} as const;

const goldenRefs = new Map<ImageId, string[]>(GOLDEN_IMAGES.map((im) => [im.id, im.refs]));
const goldenHyps = new Map<ImageId, string>(GOLDEN_IMAGES.map((im) => [im.id, im.hyp]));
const NO_JAVA = { env: {} }; // ignore the machine's CAPTIONING_* variables

function value(entries: MetricEntry[], name: string): number {
  const m = entries.find((e) => e.name === name);
  assert.ok(m && isMetricScore(m), `${name} missing or unavailable`);
  return m.value;
}

test('corpus and per-image scores equal the toolkit to the last bit', () => {
  const scores = computeCaptionMetrics(goldenRefs, goldenHyps);
  for (const [name, [corpus, perImage]] of Object.entries(TOOLKIT)) {
    assert.equal(value(scores.metrics, name), Number(corpus), `${name} corpus`);
    perImage.forEach((v, i) => {
      assert.equal(scores.perImage[i].scores[name as keyof (typeof scores.perImage)[0]['scores']], Number(v), `${name} image ${i}`);
    });
  }
  assert.deepEqual(scores.perImage.map((p) => p.imageId), GOLDEN_IMAGES.map((im) => im.id));
});

test('every score carries its name, implementation and protocol', async () => {
  const scores = await scoreCaptions(goldenRefs, goldenHyps, {
    split: 'test',
    protocol: 'free-running',
    beam: 3,
    java: NO_JAVA,
  });
  assert.deepEqual(
    scores.metrics.map((m) => m.name),
    ['BLEU-1', 'BLEU-2', 'BLEU-3', 'BLEU-4', 'METEOR', 'ROUGE-L', 'CIDEr-D', 'SPICE'],
  );
  for (const m of scores.metrics) {
    assert.equal(m.implementation, 'coco-caption');
    assert.equal(m.split, 'test');
    assert.equal(m.protocol, 'free-running');
    assert.equal(m.beam, 3);
  }
  assert.deepEqual(scores.metrics[3], {
    name: 'BLEU-4',
    value: Number(TOOLKIT['BLEU-4'][0]),
    implementation: 'coco-caption',
    split: 'test',
    protocol: 'free-running',
    beam: 3,
  });
  assert.equal(scores.images, 8);
  // CIDEr-D is on the toolkit's scale (x10), the others on 0-1
  assert.ok(value(scores.metrics, 'CIDEr-D') > 1);
});

test('without configured jars METEOR and SPICE are unavailable, with the reason', async () => {
  const scores = await scoreCaptions(goldenRefs, goldenHyps, { protocol: 'teacher-forced', java: NO_JAVA });
  const meteor = scores.metrics.find((m) => m.name === 'METEOR');
  const spice = scores.metrics.find((m) => m.name === 'SPICE');
  assert.ok(meteor && !isMetricScore(meteor));
  assert.ok(spice && !isMetricScore(spice));
  assert.equal(meteor.available, false);
  assert.match(meteor.reason, /CAPTIONING_METEOR_JAR/);
  assert.match(spice.reason, /CAPTIONING_SPICE_JAR/);
  assert.equal(meteor.protocol, 'teacher-forced');
  assert.ok(!('value' in meteor));
  assert.ok(!('METEOR' in scores.perImage[0].scores));
});

test('a configured jar that does not exist is named in the reason', async () => {
  const scores = await scoreCaptions(goldenRefs, goldenHyps, {
    metrics: ['METEOR'],
    java: { env: { CAPTIONING_METEOR_JAR: '/nowhere/meteor-1.5.jar' } },
  });
  assert.equal(scores.metrics.length, 1);
  const [meteor] = scores.metrics;
  assert.ok(!isMetricScore(meteor));
  assert.match(meteor.reason, /\/nowhere\/meteor-1\.5\.jar/);
  assert.match(meteor.reason, /CAPTIONING_METEOR_JAR/);
});

test('metrics can be selected; unselected ones are absent', () => {
  const scores = computeCaptionMetrics(goldenRefs, goldenHyps, { metrics: ['CIDEr-D', 'ROUGE-L'] });
  assert.deepEqual(scores.metrics.map((m) => m.name), ['ROUGE-L', 'CIDEr-D']);
  assert.deepEqual(Object.keys(scores.perImage[0].scores).sort(), ['CIDEr-D', 'ROUGE-L']);
  assert.equal(value(scores.metrics, 'CIDEr-D'), Number(TOOLKIT['CIDEr-D'][0]));
});

test('inputs are checked as the toolkit asserts, with the image ids named', () => {
  const refs = new Map<ImageId, string[]>([[1, ['a dog']], [2, ['a cat']]]);
  assert.throws(() => computeCaptionMetrics(refs, new Map([[1, 'a dog']])), /1 image\(s\) have references but no hypothesis: 2/);
  assert.throws(
    () => computeCaptionMetrics(refs, new Map<ImageId, string>([[1, 'a'], [2, 'b'], [3, 'c']])),
    /have a hypothesis but no references: 3/,
  );
  assert.throws(
    () => computeCaptionMetrics(new Map([[1, []]]), new Map([[1, 'a dog']])),
    /image 1: needs at least one reference caption/,
  );
  assert.throws(() => computeCaptionMetrics(new Map(), new Map()), /no images to score/);
});

test('options are validated, naming the bad value and the choices', () => {
  const refs = new Map<ImageId, string[]>([[1, ['a dog']]]);
  const hyps = new Map<ImageId, string>([[1, 'a dog']]);
  assert.throws(
    () => computeCaptionMetrics(refs, hyps, { protocol: 'greedy' as never }),
    /unknown protocol "greedy"; choose from free-running, teacher-forced/,
  );
  assert.throws(() => computeCaptionMetrics(refs, hyps, { beam: 0 }), /beam must be a positive integer, got 0/);
  assert.throws(() => computeCaptionMetrics(refs, hyps, { metrics: ['BLEU-4' as never] }), /unknown metric "BLEU-4"; choose from BLEU, METEOR/);
});

test('string image ids work as well as numbers', () => {
  const scores = computeCaptionMetrics(
    new Map<ImageId, string[]>([['img-a', ['A dog runs.']], ['img-b', ['Two cats sleep.']]]),
    new Map<ImageId, string>([['img-b', 'two cats sleep'], ['img-a', 'a dog runs']]),
  );
  assert.deepEqual(scores.perImage.map((p) => p.imageId), ['img-a', 'img-b']);
  assert.equal(value(scores.metrics, 'ROUGE-L'), 1);
});
