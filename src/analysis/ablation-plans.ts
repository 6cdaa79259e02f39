/**
 * The runs the notebooks train, in one place, so that notebook 05 asks for exactly the runs
 * notebooks 02-04 trained (and loads them) instead of rebuilding their configs by hand.
 *
 *   reportModels(params, [1, 2, 3]);           // the report's two models on the profile's schedule, three seeds each
 *   const { plans, requests } = ablationPlans(params, { epochs: 8, seeds: [1, 2, 3] });   // sweeps/ablations.yaml's arms
 *   const runs = await trainRuns(requests);    // notebook 04
 *
 * The ablation studies are a sweep file, sweeps/ablations.yaml (src/sweeps/): each arm changes
 * one thing against the reference (the baseline on the same short schedule): word inputs
 * (learned, BERT static, causal, bidirectional), context (attention or the mean feature), the
 * doubly stochastic term (alpha_c 0 or 1), occlusion (the report's future work; scenes only).
 * A user changes a study by editing the file, or passes another sweep (sweeps/encoder.yaml: a
 * small CNN from scratch against the frozen encoder). Beam size is a decoding setting,
 * evaluated on the reference's runs.
 */
import { projectPath } from '../common/project';
import { dottedOverride, notebookConfig, type NotebookParameters, type VariantName } from '../config';
import { expandSweep, readSweepFile, type Sweep } from '../sweeps';
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

/** The sweep file of the ablation studies, relative to the project root. */
export const ABLATIONS_SWEEP = 'sweeps/ablations.yaml';

/** The ablations' sweep with the notebook's schedule and seeds in place of the file's (`epochs` null: the profile's own schedule). */
function withNotebookSchedule(sweep: Sweep, options: { epochs: number | null; seeds: readonly number[] }): Sweep {
  const set = { ...sweep.set };
  if (options.epochs === null) delete set['train.epochs'];
  else set['train.epochs'] = options.epochs;
  return { ...sweep, set, seeds: [...options.seeds] };
}

/**
 * The run requests of every arm and seed of the ablations' sweep file (`sweep`, default
 * {@link ABLATIONS_SWEEP}), on the notebook's data and schedule `epochs` (null: the profile's),
 * with its seeds; arms whose `when` does not hold (scenes-only studies on COCO) are left out.
 * Ordered for parallel training: the slowest arm first (a CNN trained from scratch, where a
 * sweep has one), then seed by seed, so that a second seed finds the first's BERT vectors cached.
 */
export function ablationPlans(params: NotebookParameters, options: { epochs: number | null; seeds: readonly number[]; sweep?: Sweep }): { plans: AblationPlan[]; requests: AblationRequest[] } {
  if (options.seeds.length === 0) throw new Error('ablationPlans: give at least one seed');
  const sweep = withNotebookSchedule(options.sweep ?? readSweepFile(projectPath(ABLATIONS_SWEEP)), options);
  const expanded = expandSweep(sweep, (variant, ...overrides) => notebookConfig(params, variant, ...overrides));
  const plans: AblationPlan[] = [];
  const planOf = new Map<string, AblationPlan>();
  const requests: AblationRequest[] = expanded.map((r) => {
    let plan = planOf.get(r.arm.name);
    if (!plan) {
      plan = { study: r.arm.study ?? r.arm.name, arm: r.arm.name, variant: r.arm.variant ?? sweep.variant, override: dottedOverride(r.arm.set), seeds: [] };
      planOf.set(r.arm.name, plan);
      plans.push(plan);
    }
    plan.seeds.push(r.seed);
    return { plan, seed: r.seed, name: r.name, config: r.config };
  });
  if (plans[0]?.arm !== REFERENCE_ARM) throw new Error(`${sweep.file}: the first arm should be the reference, ${JSON.stringify(REFERENCE_ARM)}`);
  const slow = (r: AblationRequest) => Number(r.config.encoder.kind === 'small-cnn');
  requests.sort((a, b) => slow(b) - slow(a) || a.seed - b.seed);
  return { plans, requests };
}
