import { probeEngines } from '../../lib/index';
import type { EngineName } from '../../lib/index';

/** Every engine this kernel and process can run: each data-path suite runs once per engine. */
export const availableEngines: EngineName[] = (() => {
  const report = probeEngines();
  return (Object.keys(report) as EngineName[]).filter((name) => report[name].available);
})();
