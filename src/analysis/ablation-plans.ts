/**
 * The runs the notebooks train, in one place, so that notebook 05 asks for exactly the runs
 * notebooks 02-04 trained (and loads them) instead of rebuilding their configs by hand.
 *
 *   reportModels(params, [1, 2]);              // the report's two models on the profile's schedule, two seeds each
 *   const { plans, requests } = ablationPlans(params, { epochs: 3, seeds: [1, 2] });
 *   const runs = await trainRuns(requests);    // notebook 04
 *
 * Ablation studies change one thing against the reference (the baseline on the same short
 * schedule): word inputs (learned, BERT static, causal, bidirectional), context (attention
 * or the mean feature), the doubly stochastic term (alpha_c 0 or 1), the encoder (frozen
 * pretrained or a small CNN from scratch; scenes only), occlusion (the report's future
 * work; scenes only). Beam size is a decoding setting, evaluated on the reference's runs.
 */
import { notebookConfig, type NotebookParameters, type VariantName } from '../config';
import type { RunRequest } from '../train/parallel';

/** The report's baseline and BERT variant on the profile's own schedule (notebooks 02, 03, 05), one pair per seed, named `baseline-s<seed>` and `bert-s<seed>`. */
export function reportModels(params: NotebookParameters, seeds: readonly number[]): { baseline: RunRequest[]; bert: RunRequest[] } {
  if (seeds.length === 0) throw new Error('reportModels: give at least one seed');
  return {
    baseline: seeds.map((seed) => ({ name: `baseline-s${seed}`, config: notebookConfig(params, 'baseline', { seed }) })),
    bert: seeds.map((seed) => ({ name: `bert-s${seed}`, config: notebookConfig(params, 'bert', { seed }) })),
  };
}

export interface AblationPlan {
  study: string;
  arm: string;
  variant: VariantName;
  override: Record<string, unknown>;
  seeds: number[];
}

export interface AblationRequest extends RunRequest {
  plan: AblationPlan;
  seed: number;
}

export const REFERENCE_ARM = 'learned (reference)';
export const WORD_INPUTS_STUDY = 'word inputs';

/**
 * Every study's arms; the reference (learned words) comes first. All seeds for the reference
 * and the report's BERT mode (the comparison the verdict rests on), the first seed for the
 * other arms: what keeps notebook 04 within its time on a 2-core CPU. Scenes-only studies are
 * left out on other data.
 */
export function ablationStudies(params: NotebookParameters, seeds: readonly number[]): AblationPlan[] {
  const all = [...seeds];
  const one = all.slice(0, 1);
  const plans: AblationPlan[] = [
    { study: WORD_INPUTS_STUDY, arm: REFERENCE_ARM, variant: 'baseline', override: {}, seeds: all },
    { study: WORD_INPUTS_STUDY, arm: 'BERT static', variant: 'bert', override: { words: { bert: { mode: 'static' } } }, seeds: one },
    { study: WORD_INPUTS_STUDY, arm: 'BERT causal', variant: 'bert', override: { words: { bert: { mode: 'causal' } } }, seeds: one },
    { study: WORD_INPUTS_STUDY, arm: 'BERT bidirectional (report)', variant: 'bert', override: { words: { bert: { mode: 'bidirectional' } } }, seeds: all },
    { study: 'context', arm: 'mean feature, no attention', variant: 'baseline', override: { decoder: { context: 'mean' } }, seeds: one },
    { study: 'doubly stochastic', arm: 'alpha_c 1', variant: 'baseline', override: { train: { alphaC: 1 } }, seeds: one },
  ];
  if (notebookConfig(params).data.source === 'scenes') {
    plans.push({ study: 'encoder', arm: 'small CNN from scratch', variant: 'baseline', override: { encoder: { kind: 'small-cnn', inputSize: 64, normalisation: 'imagenet' } }, seeds: one });
    plans.push({ study: 'occlusion', arm: 'occluded scenes (p 0.5)', variant: 'baseline', override: { data: { dir: 'results/data/scenes-occluded', scenes: { occlusion: 0.5 } } }, seeds: one });
  }
  return plans;
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/**
 * The run requests of every arm and seed, on the short schedule `epochs` (null: the
 * profile's). Ordered for parallel training: the slowest arm first (the CNN trained from
 * scratch), then seed by seed, so that a second seed finds the first's BERT vectors cached.
 */
export function ablationPlans(params: NotebookParameters, options: { epochs: number | null; seeds: readonly number[] }): { plans: AblationPlan[]; requests: AblationRequest[] } {
  if (options.seeds.length === 0) throw new Error('ablationPlans: give at least one seed');
  const schedule = options.epochs === null ? {} : { train: { epochs: options.epochs } };
  const plans = ablationStudies(params, options.seeds);
  const requests: AblationRequest[] = plans.flatMap((plan) =>
    plan.seeds.map((seed) => ({ plan, seed, name: `ablation-${slug(plan.arm)}-s${seed}`, config: notebookConfig(params, plan.variant, schedule, plan.override, { seed }) })),
  );
  const slow = (r: AblationRequest) => Number(r.config.encoder.kind === 'small-cnn');
  requests.sort((a, b) => slow(b) - slow(a) || a.seed - b.seed);
  return { plans, requests };
}
