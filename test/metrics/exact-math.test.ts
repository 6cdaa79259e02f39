// The floating-point helpers that make scores match the Python toolkit bit for bit:
// correctly rounded exp/log/pow (what glibc returns in all but rare cases) and numpy's
// pairwise summation order.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { exactExp, exactLog, exactPow, exactPowE, numpyMean, numpySum } from '../../src/metrics/exact-math';

test('log is correctly rounded where V8 is not', () => {
  // ln 3 = 1.098612288668109691395...: the nearest double is 1.0986122886681098
  // (Math.log(3) gives 1.0986122886681096 in V8, one ulp below)
  assert.equal(exactLog(3), 1.0986122886681098);
  assert.equal(exactLog(1), 0);
  assert.equal(exactLog(Math.E), 1);
  assert.equal(exactLog(0), -Infinity);
  assert.ok(Number.isNaN(exactLog(-1)));
  // exactness on a range: log(2^k) = k ln 2 rounded, e.g. log(1024) = 6.931471805599453
  assert.equal(exactLog(1024), 6.931471805599453);
});

test('exp and pow match correctly rounded values', () => {
  // e^(-1/72) = 0.98620711674391632..., e^-1 = 0.36787944117144233...
  assert.equal(exactExp(-1 / 72), 0.9862071167439163);
  assert.equal(exactExp(-1), 0.36787944117144233);
  assert.equal(exactExp(0), 1);
  assert.equal(exactExp(-800), 0);
  // the toolkit's np.e ** x uses the double nearest e, not exp
  assert.equal(exactPowE(-1 / 72), 0.9862071167439163);
  // sqrt via pow(x, 0.5) is the correctly rounded square root
  for (const x of [2, 3, 1e-17, 0.7071, 123456.789]) assert.equal(exactPow(x, 0.5), Math.sqrt(x));
  assert.equal(exactPow(8, 1 / 3), 2);
  assert.equal(exactPow(0.25, 1), 0.25);
  assert.equal(exactPow(0, 0.5), 0);
});

test('numpy sums pairwise: 8 accumulators, not left to right', () => {
  // [1e16, 1 x 8], n = 9: the accumulators hold 1e16, 1, ..., 1 (8 values), combined as
  // ((1e16 + 1) + (1 + 1)) + ((1 + 1) + (1 + 1)) = (1e16 + 2) + 4 = 1e16 + 6 (1e16 + 1 rounds
  // to even 1e16), then the ninth: 1e16 + 7 rounds to even 1e16 + 8.
  // Left to right every + 1 is lost: 1e16.
  const a = [1e16, 1, 1, 1, 1, 1, 1, 1, 1];
  assert.equal(numpySum(a), 1e16 + 8);
  assert.equal(a.reduce((s, x) => s + x, 0), 1e16);
  assert.equal(numpyMean(a), (1e16 + 8) / 9);
  // under 8 elements numpy adds left to right from 0
  assert.equal(numpySum([1e16, 1, 1, 1, 1, 1, 1]), 1e16);
  // over 128 elements it splits at a multiple of 8 near the middle and recurses
  const big = new Array<number>(200).fill(0.1);
  const left = numpySum(big.slice(0, 96));
  const right = numpySum(big.slice(96));
  assert.equal(numpySum(big), left + right);
});
