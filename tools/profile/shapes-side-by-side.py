#!/usr/bin/env python3
"""Random 4 KiB O_DIRECT writes or reads at QD 32, the same file, in several
shapes run side by side: fio, the C shapes of reap-shapes.c (plain, with
busy work per request, polling before sleeping, and hybrid polling: asleep on
a timer until shortly before a completion is likely, then polling within a
tenth of a core, woken 100 or 200 us early), aioring without the
bench's harness (qd-loop.js) and the bench's aioring driver. Rounds alternate,
rotating the order, and each shape's ratio to fio in the same round is
reported as the median over the rounds, so the disk's drift cancels out.

usage: tools/profile/shapes-side-by-side.py FILE [write|read] [ROUNDS] [SECONDS]
Needs fio, a C compiler and a built library (npm install). FILE is overwritten
when writing.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def iops_in(text):
    return float(re.search(r': (\d+) IOPS', text).group(1))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    target = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else 'write'
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    seconds = sys.argv[4] if len(sys.argv) > 4 else '1.5'
    scratch = tempfile.mkdtemp(prefix='aioring-shapes-')
    reap_shapes = os.path.join(scratch, 'reap-shapes')
    subprocess.run(['cc', '-O2', '-o', reap_shapes, os.path.join(HERE, 'reap-shapes.c')], check=True)
    read_arg = ['read'] if mode == 'read' else []

    def run(args, env=None):
        done = subprocess.run(args, capture_output=True, text=True, env={**os.environ, **(env or {})})
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def fio():
        out = run(['fio', '--name=shapes', f'--filename={target}', f'--rw=rand{mode}', '--bs=4k', '--iodepth=32',
                   '--ioengine=libaio', '--direct=1', '--time_based', f'--runtime={float(seconds) * 1000:.0f}ms',
                   '--norandommap', '--randrepeat=0', '--thread', '--output-format=json'])
        return json.loads(out)['jobs'][0][mode]['iops']

    def c_shape(shape, **knobs):
        env = {'REAP_SECONDS': seconds, **{k: str(v) for k, v in knobs.items()}}
        return lambda: iops_in(run([reap_shapes, target, shape, '4' if shape == 'loop' else '1', *read_arg], env))

    def qd_loop():
        return iops_in(run(['node', os.path.join(HERE, 'qd-loop.js'), target, '32', mode, seconds]))

    def bench_driver():
        report = os.path.join(scratch, 'bench.json')
        run(['node', os.path.join(ROOT, 'bench', 'dist', 'cli.js'), '--target', target, '--allow-write', '--rw', f'rand{mode}',
             '--qd', '32', '--runtime', seconds, '--drivers', 'aioring-libaio', '--json', report])
        with open(report) as f:
            return json.load(f)['points'][0]['results'][0]['metrics']['iops']

    shapes = {
        'fio (libaio)': fio,
        "C, fio's shape": c_shape('blocking'),
        "C, aioring's shape": c_shape('loop'),
        "C, aioring's shape + 2.3 us/request": c_shape('loop', REAP_WORK_NS=2300),
        "C, aioring's shape, polling 400 us": c_shape('loop', REAP_SPIN_US=400),
        "C, aioring's shape, hybrid polling": c_shape('loop', REAP_HYBRID_LEAD_US=100),
        "C, aioring's shape, hybrid, lead 200 us": c_shape('loop', REAP_HYBRID_LEAD_US=200),
        'aioring, qd-loop.js': qd_loop,
        'aioring, bench driver': bench_driver,
    }
    names = list(shapes)
    iops = {name: [] for name in names}
    ratios = {name: [] for name in names}
    try:
        for r in range(rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            got = {name: shapes[name]() for name in order}
            for name in names:
                iops[name].append(got[name])
                ratios[name].append(got[name] / got[names[0]])
            print(f'round {r + 1}: ' + ', '.join(f'{name} {got[name] / 1e3:.0f}k' for name in names), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f'\nrandom 4 KiB {mode}s, QD 32, {rounds} rounds of {seconds} s; ratio = median of the per-round ratios to fio')
    for name in names:
        rounds_text = ' '.join(f'{x:.2f}' for x in ratios[name])
        print(f'{name:40s} {statistics.median(iops[name]) / 1e3:7.1f}k IOPS  {statistics.median(ratios[name]):.3f}x  ({rounds_text})')


if __name__ == '__main__':
    main()
