// The bench measures latency with the library's own histogram (lib/histogram.ts,
// the one ring.stats().latencyUs uses), loaded from the repository's build like
// the rest of the library (see setup/aioring-lib.ts). It needs no native addon.
import * as path from 'node:path';
import type * as HistogramModule from '../../../dist/lib/histogram';
import { REPOSITORY_ROOT } from '../setup/aioring-lib';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const histogram = require(path.join(REPOSITORY_ROOT, 'dist', 'lib', 'histogram.js')) as typeof HistogramModule;

export const { Histogram } = histogram;
export type Histogram = HistogramModule.Histogram;
