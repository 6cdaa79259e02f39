// Adam against PyTorch's torch.optim.Adam, written out as scalar maths in this file: bias
// correction over several steps, per-weight learning rates, where epsilon goes (gradients
// as small as eps), lr 0 (weights unchanged, moments and step count advanced), a restored
// state continuing the same way; and the trainer clipping gradients before they reach the
// moments (by value and by global norm).
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { selectBackend } from '../../src/compute/backend';
import { Adam } from '../../src/compute/adam';
import { describeMatMul, nativeKernelsAvailable } from '../../src/compute/native-kernels';
import { setWasmSpeedups } from '../../src/compute/wasm-speedups';
import { Trainer, type TrainerOptions } from '../../src/train/trainer';
import { tinyCaptioner, tinyDataset, tinyInputs, tinyTrainerOptions } from '../model/helpers';

before(async () => {
  await selectBackend({ force: 'wasm', log: null });
});

const B1 = 0.9;
const B2 = 0.999;
const EPS = 1e-8;

/** PyTorch's Adam for one weight vector, float64 scalar maths: the state after each step. */
function referenceAdam(w0: number[], grads: number[][], lrs: number[], eps = EPS): { w: number[]; m: number[]; v: number[] }[] {
  const w = [...w0];
  const m = w0.map(() => 0);
  const v = w0.map(() => 0);
  return grads.map((g, s) => {
    const t = s + 1;
    for (let i = 0; i < w.length; i++) {
      m[i] = B1 * m[i] + (1 - B1) * g[i];
      v[i] = B2 * v[i] + (1 - B2) * g[i] * g[i];
      const mHat = m[i] / (1 - Math.pow(B1, t));
      const vHat = v[i] / (1 - Math.pow(B2, t));
      w[i] -= (lrs[s] * mHat) / (Math.sqrt(vHat) + eps);
    }
    return { w: [...w], m: [...m], v: [...v] };
  });
}

/** |actual - expected| <= rel |expected| + abs, element by element. */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rel = 1e-6, abs = 1e-12): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    assert.ok(err <= rel * Math.abs(expected[i]) + abs, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (error ${err})`);
  }
}

let variables = 0;

/** An Adam over named weight vectors, and a way to step it with host gradients. */
function optimiser(initial: Record<string, number[]>, eps = EPS) {
  const weights = new Map(Object.entries(initial).map(([k, w]) => [k, tf.variable(tf.tensor1d(w), true, `adam-test-${k}-${variables++}`)]));
  const adam = new Adam(weights, { beta1: B1, beta2: B2, epsilon: eps });
  return {
    adam,
    weights,
    apply(grads: Record<string, number[]>, lr: (name: string) => number) {
      const g = new Map(Object.entries(grads).map(([k, x]) => [k, tf.tensor1d(x)]));
      adam.apply(g, lr);
      tf.dispose([...g.values()]);
    },
    read: (name: string) => Array.from(weights.get(name)!.dataSync()),
    dispose() {
      adam.dispose();
      for (const w of weights.values()) w.dispose();
    },
  };
}

// Both implementations: the native kernel on the wasm heap (speedups on, what training uses on wasm) and tfjs ops (every other backend).
for (const implementation of ['native kernel on the wasm heap', 'tfjs ops'] as const) {
  describe(`Adam (PyTorch semantics), ${implementation}`, () => {
    let previous = true;
    before(() => {
      previous = setWasmSpeedups(implementation === 'native kernel on the wasm heap');
      if (previous !== true) throw new Error('the speedups were off before this test');
      if (implementation === 'native kernel on the wasm heap') assert.ok(nativeKernelsAvailable(), describeMatMul());
    });
    after(() => {
      setWasmSpeedups(previous);
    });

    test('bias correction over several steps, each weight at its own learning rate', () => {
      const w0 = { a: [0.5, -1.25, 2, 0.1], b: [-0.3, 0.7, 0, 1.5] };
      // Gradients of changing sign and size, so m and v and both corrections all matter.
      const grads = [
        [0.3, -1.2, 0.05, 2],
        [-0.1, -0.8, 0.4, 1.5],
        [0.25, 0.6, -0.3, -0.5],
        [0.9, -0.05, 0.2, 0.7],
        [-0.4, 0.3, 0.1, -1.1],
        [0.2, -0.9, -0.6, 0.4],
      ];
      const lr = { a: 0.01, b: 0.003 };
      const opt = optimiser(w0);
      const ref = { a: referenceAdam(w0.a, grads, grads.map(() => lr.a)), b: referenceAdam(w0.b, grads.map((g) => g.map((x) => -2 * x)), grads.map(() => lr.b)) };
      grads.forEach((g, s) => {
        opt.apply({ a: g, b: g.map((x) => -2 * x) }, (name) => lr[name as 'a' | 'b']);
        const state = opt.adam.getState();
        assert.equal(state.step, s + 1);
        for (const name of ['a', 'b'] as const) {
          const r = ref[name][s];
          assertClose(opt.read(name), r.w, `step ${s + 1} ${name}: w`);
          assertClose(state.m.get(name)!, r.m, `step ${s + 1} ${name}: m`);
          assertClose(state.v.get(name)!, r.v, `step ${s + 1} ${name}: v`);
        }
      });
      opt.dispose();
    });

    test('epsilon is added to sqrt(v_hat), outside the root: gradients as small as eps', () => {
      const g = 1e-8; // = eps: with PyTorch's placement each step moves the weight by lr * g / (g + eps) = lr / 2
      const lr = 0.01;
      const steps = 4;
      const opt = optimiser({ w: [0, 0] });
      const grads = Array.from({ length: steps }, () => [g, -3 * g]);
      const ref = referenceAdam([0, 0], grads, grads.map(() => lr));
      for (let s = 0; s < steps; s++) {
        opt.apply({ w: grads[s] }, () => lr);
        assertClose(opt.read('w'), ref[s].w, `step ${s + 1}`);
      }
      // Constant gradients: m_hat = g and v_hat = g^2 exactly, so the steps are known in closed form.
      assertClose(opt.read('w'), [(-steps * lr * g) / (g + EPS), (steps * lr * 3 * g) / (3 * g + EPS)], 'closed form');
      // The other placements give clearly different numbers (so this test tells them apart):
      // TensorFlow's eps on the uncorrected sqrt(v), and eps inside the root.
      let tfStyle = 0;
      let insideRoot = 0;
      for (let t = 1; t <= steps; t++) {
        tfStyle -= ((lr * Math.sqrt(1 - Math.pow(B2, t))) / (1 - Math.pow(B1, t))) * (((1 - Math.pow(B1, t)) * g) / (Math.sqrt((1 - Math.pow(B2, t)) * g * g) + EPS));
        insideRoot -= (lr * g) / Math.sqrt(g * g + EPS);
      }
      for (const other of [tfStyle, insideRoot]) assert.ok(Math.abs(other - opt.read('w')[0]) > 0.1 * Math.abs(opt.read('w')[0]), `${other} vs ${opt.read('w')[0]}`);
      opt.dispose();
    });

    test('lr 0 leaves the weights unchanged but advances the moments and the step, as PyTorch', () => {
      const w0 = [0.5, -1.5, 0.25];
      const grads = [
        [0.4, -0.2, 1.5],
        [-0.3, 0.1, 0.8],
        [0.6, 0.9, -0.2],
      ];
      const lrs = [0, 0, 0.01];
      const opt = optimiser({ frozen: w0, live: w0 });
      const ref = referenceAdam(w0, grads, lrs);
      const refLive = referenceAdam(w0, grads, grads.map(() => 0.01));
      grads.forEach((g, s) => {
        opt.apply({ frozen: g, live: g }, (name) => (name === 'frozen' ? lrs[s] : 0.01));
        const state = opt.adam.getState();
        assert.equal(state.step, s + 1);
        if (lrs[s] === 0) assert.deepEqual(opt.read('frozen'), Array.from(Float32Array.from(w0)), `step ${s + 1}: the weight is unchanged, bit for bit`);
        assertClose(state.m.get('frozen')!, ref[s].m, `step ${s + 1}: m`);
        assertClose(state.v.get('frozen')!, ref[s].v, `step ${s + 1}: v`);
        assertClose(opt.read('frozen'), ref[s].w, `step ${s + 1}: w`);
        assertClose(opt.read('live'), refLive[s].w, `step ${s + 1}: the other weight`);
      });
      opt.dispose();
    });

    test('a state restored with setState continues exactly as the optimiser it was taken from', () => {
      const w0 = [1, -2, 0.5];
      const grads = [
        [0.2, 0.5, -0.7],
        [-0.4, 0.3, 0.1],
        [0.9, -0.6, 0.2],
        [0.1, 0.2, 0.3],
      ];
      const ref = referenceAdam(w0, grads, grads.map(() => 0.02));
      const first = optimiser({ w: w0 });
      first.apply({ w: grads[0] }, () => 0.02);
      first.apply({ w: grads[1] }, () => 0.02);
      const second = optimiser({ w: first.read('w') });
      second.adam.setState(first.adam.getState());
      second.apply({ w: grads[2] }, () => 0.02);
      second.apply({ w: grads[3] }, () => 0.02);
      assert.equal(second.adam.step, 4);
      assertClose(second.read('w'), ref[3].w, 'w after 2 + 2 steps');
      first.dispose();
      second.dispose();
    });

    test('a clip on the way in (scaled, then clamped, NaN kept), from tensors or from host values alike, bit for bit', () => {
      const w0 = [0.5, -1.25, 2, 0.1, 0.3];
      const grads = [
        [0.3, -1.2, 0.05, 2, NaN],
        [-0.1, -0.8, 0.4, 1.5, 0.2],
      ];
      const clip = { scale: 0.5, limit: 0.3 };
      const clipped = grads.map((g) => g.map((x) => (Number.isNaN(x) ? x : Math.min(0.3, Math.max(-0.3, Math.fround(x * 0.5))))));
      const ref = referenceAdam(w0.slice(0, 4), clipped.map((g) => g.slice(0, 4)), [0.01, 0.01]);
      const fromTensors = optimiser({ w: w0 });
      const fromHost = optimiser({ w: w0 });
      for (const g of grads) {
        const tensor = tf.tensor1d(g);
        fromTensors.adam.apply(new Map([['w', tensor]]), () => 0.01, clip);
        tensor.dispose();
        fromHost.adam.apply(new Map([['w', Float32Array.from(g)]]), () => 0.01, clip);
      }
      assertClose(fromTensors.read('w').slice(0, 4), ref[1].w, 'w after two clipped steps');
      assert.ok(Number.isNaN(fromTensors.read('w')[4]), 'a NaN gradient is not clipped away');
      assert.deepEqual(fromHost.read('w'), fromTensors.read('w'));
      assert.deepEqual(fromHost.adam.getState(), fromTensors.adam.getState());
      fromTensors.dispose();
      fromHost.dispose();
    });
  });
}

for (const implementation of ['native kernel on the wasm heap', 'tfjs ops'] as const) {
  describe(`Trainer: gradients are clipped before Adam, ${implementation}`, () => {
    let previous = true;
    before(() => {
      previous = setWasmSpeedups(implementation === 'native kernel on the wasm heap');
    });
    after(() => {
      setWasmSpeedups(previous);
    });

    /** One train step of a fresh tiny trainer: its Adam state and weights before and after. */
    async function oneStep(clip: TrainerOptions['clip']) {
      const data = tinyDataset();
      const captioner = tinyCaptioner({ V: data.vocab.size, initRange: 0.5, seed: 7 });
      const trainer = new Trainer(captioner, { captions: data.train, inputs: tinyInputs('features') }, tinyTrainerOptions({ clip }));
      const before = trainer.snapshot().weights;
      await trainer.trainStep(trainer.plan(0)[0], 0, 0);
      const after = trainer.snapshot();
      trainer.dispose();
      captioner.dispose();
      return { before, after, lr: tinyTrainerOptions().learningRate };
    }

    test('by value and by global norm: the moments and the update are those of the clipped gradient', async () => {
      // The raw gradient g, read from the first moment of an unclipped step: m = (1 - b1) g.
      const raw = await oneStep({ mode: 'none', value: 1 });
      const names = [...raw.after.adam.m.keys()];
      const g = new Map(names.map((n) => [n, Array.from(raw.after.adam.m.get(n)!, (m) => m / (1 - B1))]));
      const all = names.flatMap((n) => g.get(n)!);
      const norm = Math.sqrt(all.reduce((s, x) => s + x * x, 0));
      const largest = Math.max(...all.map(Math.abs));
      assert.ok(largest > 0 && norm > 0);
      // Clip thresholds well inside the gradient's range, so clipping is active.
      const cases: { clip: TrainerOptions['clip']; clipped: (x: number) => number }[] = [
        { clip: { mode: 'value', value: largest / 4 }, clipped: (x) => Math.min(largest / 4, Math.max(-largest / 4, x)) },
        { clip: { mode: 'norm', value: norm / 3 }, clipped: (x) => (x * (norm / 3)) / norm },
      ];
      for (const { clip, clipped } of cases) {
        const run = await oneStep(clip);
        let changed = 0;
        for (const n of names) {
          const gc = g.get(n)!.map(clipped);
          changed += gc.filter((x, i) => x !== g.get(n)![i]).length;
          // First step of Adam: m = (1 - b1) gc, v = (1 - b2) gc^2, w -= lr gc / (|gc| + eps).
          assertClose(run.after.adam.m.get(n)!, gc.map((x) => (1 - B1) * x), `${clip.mode} ${n}: m`, 1e-5, 1e-12);
          assertClose(run.after.adam.v.get(n)!, gc.map((x) => (1 - B2) * x * x), `${clip.mode} ${n}: v`, 1e-5, 1e-16);
          const w0 = run.before.get(n)!.data;
          const rate = n.startsWith('encoder.') ? tinyTrainerOptions().encoderLearningRate! : run.lr;
          assertClose(Array.from(run.after.weights.get(n)!.data, (w, i) => w - w0[i]), gc.map((x) => (-rate * x) / (Math.abs(x) + EPS)), `${clip.mode} ${n}: w - w0`, 1e-4, 1e-9);
        }
        assert.ok(changed > 0, `${clip.mode}: clipping changed some gradient`);
      }
    });
  });
}

// Data-parallel workers' shared optimiser (src/train/data-parallel.ts): shares of one update, each
// from the gradient slots summed in slot order, against one whole update from the summed gradients.
for (const implementation of ['native kernel', 'tfjs ops'] as const) {
  describe(`Adam with shared moments, updated by shares, ${implementation}`, () => {
    let previous = true;
    before(() => {
      previous = setWasmSpeedups(implementation === 'native kernel');
      if (implementation === 'native kernel') assert.ok(nativeKernelsAvailable(), describeMatMul());
    });
    after(() => {
      setWasmSpeedups(previous);
    });

    // Three weights laid end to end (4 + 5 + 3 values); two shares split the middle one.
    const initial = { a: [0.5, -1, 2, 0.25], b: [0.1, 0.2, -0.3, 0.4, -0.5], c: [1, -2, 3] };
    const layout = Object.entries(initial).map(([name, w]) => ({ name, size: w.length }));
    const total = 12;
    const offsets = [0, 4, 9];
    const shares = [
      { from: 0, to: 6 },
      { from: 6, to: 12 },
    ];
    /** Three gradient slots [3, total] for step s, and their sum in slot order (float32). */
    function slotsOf(s: number): { values: Float32Array; sum: Float32Array } {
      const values = Float32Array.from({ length: 3 * total }, (_, i) => Math.sin(7 * i + s) * (i % 5 === 0 ? 3 : 0.4));
      const sum = values.slice(0, total);
      for (let k = 1; k < 3; k++) for (let i = 0; i < total; i++) sum[i] += values[k * total + i];
      return { values, sum };
    }
    const lr = (name: string) => (name === 'c' ? 0 : 0.01); // c: lr 0, its moments advance and it stays as it is
    const clip = { scale: 0.8, limit: 0.5 };
    const present = [true, true, false]; // c: no gradient this step (not updated at all) ...

    test('shares of two threads give the update of the summed gradients, bit for bit, and the state it leaves', () => {
      const whole = optimiser(initial);
      const threads = [optimiser(initial), optimiser(initial)]; // two workers' optimisers over one shared memory
      const moments = new Float32Array(2 * total);
      threads.forEach((thread, k) => thread.adam.shareMoments(moments, layout, k === 0));
      assert.throws(() => threads[0].adam.apply(new Map(), lr), /moments are shared/);
      for (let s = 0; s < 3; s++) {
        const { values, sum } = slotsOf(s);
        const which = s === 2 ? [true, true, true] : present; // ... until the last step
        const gradients = new Map(layout.flatMap(({ name, size }, k) => (which[k] ? [[name, sum.slice(offsets[k], offsets[k] + size)] as const] : [])));
        whole.adam.apply(gradients, lr, clip);
        const updated = new Float32Array(total).fill(NaN);
        threads.forEach((thread, k) => thread.adam.applyShare({ values, slots: 3, total }, shares[k], which, updated, lr, clip));
        for (const thread of threads) thread.adam.takeUpdatedWeights(updated, which, lr);
      }
      for (const thread of threads) {
        for (const name of Object.keys(initial)) assert.deepEqual(thread.read(name), whole.read(name), `weight ${name}`);
        assert.deepEqual(thread.adam.getState(), whole.adam.getState(), 'step count and moments');
      }
      assert.deepEqual(threads[1].read('c'), initial.c.map(Math.fround), 'lr 0: c unchanged');
      assert.deepEqual(Array.from(moments.subarray(4, 9)), Array.from(whole.adam.getState().m.get('b')!), "b's first moment lies in the shared memory");
      whole.dispose();
      for (const thread of threads) thread.dispose();
    });

    test('setState writes the shared moments; a state that does not fit is refused before anything is written', () => {
      const first = optimiser(initial);
      first.apply({ a: [1, 2, 3, 4], b: [1, 1, 1, 1, 1], c: [2, 2, 2] }, () => 0.01);
      const state = first.adam.getState();
      const other = optimiser(initial);
      const moments = new Float32Array(2 * total);
      other.adam.shareMoments(moments, layout, false);
      other.adam.setState(state);
      assert.deepEqual(other.adam.getState(), state);
      const before = Float32Array.from(moments);
      const broken = { ...state, v: new Map([...state.v].map(([k, x]) => [k, k === 'c' ? x.subarray(1) : x])) };
      assert.throws(() => other.adam.setState(broken), /v of "c" has 2 values, the weight 3/);
      assert.deepEqual(moments, before, 'nothing written');
      assert.throws(() => other.adam.shareMoments(new Float32Array(2 * total - 1), layout, false), /23 floats for the moments of 12 values/);
      first.dispose();
      other.dispose();
    });
  });
}
