// The live status line on stderr (only on a terminal): which trial, how far
// along, and the IOPS over the last progress interval.

import { formatSize } from '../options/sizes';
import type { TrialProgress } from '../trial/runner';
import { compactNumber } from './format';

export class ProgressLine {
  private lastOps: number | null = null;
  private lastS = 0;
  private lastKey = '';
  private shown = false;

  constructor(
    private readonly enabled: boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(p: TrialProgress): void {
    if (!this.enabled) return;
    const key = `${p.index}:${p.phase}`;
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.lastOps = null;
      this.lastS = 0;
    }
    let rate = '';
    if (p.ops !== null && p.phase === 'run') {
      if (this.lastOps !== null && p.elapsedS > this.lastS) {
        rate = `  ${compactNumber((p.ops - this.lastOps) / (p.elapsedS - this.lastS))} IOPS`;
      }
      this.lastOps = p.ops;
      this.lastS = p.elapsedS;
    }
    const s = p.spec;
    const total = s.runtimeS !== null ? `/${s.runtimeS}s` : s.ops !== null && p.ops !== null ? ` ${p.ops}/${s.ops} ops` : '';
    const when = p.phase === 'start' ? 'starting' : p.phase === 'ramp' ? `ramp ${p.elapsedS.toFixed(1)}s` : `${p.elapsedS.toFixed(1)}s${total}`;
    const rep = s && p.repetition > 0 ? ` rep ${p.repetition + 1}` : '';
    this.write(`[${p.index}/${p.total}] ${s.label} qd=${s.qd} bs=${formatSize(s.bs)}${rep}  ${when}${rate}`);
  }

  /** A line that stays (status messages), printed above the progress line. */
  log(line: string): void {
    if (this.shown) this.clear();
    this.stream.write(line + '\n');
  }

  clear(): void {
    if (!this.enabled || !this.shown) return;
    this.stream.write('\r\x1b[2K');
    this.shown = false;
  }

  private write(text: string): void {
    const cols = this.stream.columns || 100;
    this.stream.write('\r\x1b[2K' + (text.length >= cols ? text.slice(0, cols - 1) : text));
    this.shown = true;
  }
}
