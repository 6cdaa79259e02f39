/**
 * A long run on a slow backend is refused before it trains, not discovered a day later.
 * A paper-profile run whose `node-gpu` backend fails to load would otherwise fall back to
 * wasm (about 22 h an epoch on this project's 2-core machine) with one log line. So when a
 * run's epoch is long (`TIMED_FROM_STEPS` steps or more) and the backend is neither the GPU
 * nor forced, a few steps of the run's own shape are timed on a throwaway copy of the model,
 * and a run whose expected epoch exceeds `LONGEST_UNFORCED_EPOCH_SECONDS` is refused with
 * that estimate; forcing the backend (`CAPTIONING_BACKEND`) accepts it.
 *
 *   await guardSlowBackend(backend, stepsPerEpoch, () => timeTrainingStep(config, data));
 */
import { BACKEND_ENV_VAR, type BackendChoice } from '../compute/backend';
import { formatDuration } from '../common/progress-text';

/** Epochs with fewer steps than this are not timed (the quick profile's have about 125). */
export const TIMED_FROM_STEPS = 2000;
/** The longest epoch an unforced CPU backend is allowed to start (a policy: one hour). */
export const LONGEST_UNFORCED_EPOCH_SECONDS = 3600;

/** Refuses (throws) a run whose expected epoch on this unforced non-GPU backend is too long; see the module comment. */
export async function guardSlowBackend(backend: BackendChoice, stepsPerEpoch: number, timeStep: () => Promise<number>): Promise<void> {
  if (backend.kind === 'node-gpu' || backend.forcedBy || stepsPerEpoch < TIMED_FROM_STEPS) return;
  const seconds = await timeStep();
  const epoch = seconds * stepsPerEpoch;
  if (epoch <= LONGEST_UNFORCED_EPOCH_SECONDS) return;
  const gpu = backend.rejected.find((r) => r.kind === 'node-gpu');
  throw new Error(
    `refusing to train on ${backend.kind}: an epoch of ${stepsPerEpoch} steps would take about ${formatDuration(epoch)} ` +
      `(one step of this run measured just now: ${seconds.toFixed(2)} s)` +
      (gpu ? `; the GPU backend was not used: ${gpu.reason}` : '') +
      `. Train on a GPU (\`npx captioning env --gpu\` says what @tensorflow/tfjs-node-gpu needs), ` +
      `or set ${BACKEND_ENV_VAR}=${backend.kind} to train on ${backend.kind} anyway.`,
  );
}
