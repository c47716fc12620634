// Getting the target ready before any trial: create the temporary file, or
// make sure an existing target carries the verification pattern (stamping it
// when allowed), so that every read can be checked.

import { DEFAULT_SEED, Pattern } from './pattern';
import { bsValuesOf, planIntegrity, planVerifiesReads, refreshTemporaryTarget, type Plan } from './plan';
import { formatBytes } from '../options/sizes';
import { carriesPattern, createTempTarget, stampProtectedTarget, stampTarget, TargetError } from './target';
import { rwReads } from '../types';

export type Log = (line: string) => void;

export async function prepareTarget(plan: Plan, log: Log): Promise<void> {
  const pattern = new Pattern(plan.options.seed ?? DEFAULT_SEED);
  const t = plan.target;
  if (t.temporary) {
    log(`creating ${formatBytes(plan.region)} target ${t.path}`);
    await createTempTarget(t.path, plan.region, pattern);
    await refreshTemporaryTarget(plan, bsValuesOf(plan));
    await protectIfAsked(plan, log);
    return;
  }
  const needsPattern = rwReads(plan.options.rw);
  if (!needsPattern) return; // write-only runs write the pattern themselves
  if (planIntegrity(plan) !== null) {
    if (!plan.options.allowWrite) {
      throw new TargetError(`--integrity rewrites the first ${formatBytes(plan.region)} of ${t.path} with protection trailers: add --allow-write`);
    }
    await protectIfAsked(plan, log);
    return;
  }
  const grows = t.kind === 'file' && plan.region > t.size;
  if (!grows && (await carriesPattern(t.path, plan.region, pattern))) return;
  if (!plan.options.allowWrite) {
    if (!planVerifiesReads(plan) && !grows) return;
    const what = grows
      ? `is ${formatBytes(t.size)}, smaller than --size ${formatBytes(plan.region)}`
      : `does not carry the bench's verification pattern`;
    throw new TargetError(
      `${t.path} ${what}. Add --allow-write to let the bench write the pattern over its first ${formatBytes(plan.region)} ` +
        `(destroying what is there)${grows ? '' : ', or --no-verify to read it unverified'}.`,
    );
  }
  log(`writing the verification pattern over ${formatBytes(plan.region)} of ${t.path}`);
  await stampTarget(t.path, plan.region, pattern);
  if (grows) plan.target = { ...t, size: plan.region };
}

/** With --integrity: rewrites the region with the pattern and protection trailers, for reads to check. */
async function protectIfAsked(plan: Plan, log: Log): Promise<void> {
  const integrity = planIntegrity(plan);
  if (integrity === null || !rwReads(plan.options.rw)) return;
  log(`writing the pattern with ${integrity.format} trailers every ${integrity.interval} bytes over ${formatBytes(plan.region)}`);
  await stampProtectedTarget(plan.target.path, plan.region, new Pattern(plan.options.seed), integrity);
}

/** Rewrites the pattern after a driver that does not write it (fio) wrote to the target. */
export async function restoreTarget(plan: Plan, log: Log): Promise<void> {
  if (planIntegrity(plan) !== null) return protectIfAsked(plan, log);
  log(`restoring the verification pattern over ${formatBytes(plan.region)} (fio wrote its own data)`);
  await stampTarget(plan.target.path, plan.region, new Pattern(plan.options.seed));
}
