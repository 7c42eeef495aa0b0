import { commandLineError, parseCommandLine } from '@tributary/runtime';

const USAGE = `usage: npm run bench:cloud [-- OPTIONS]

The cloud processor at InfluxDB's speed, beside the raw /write rate of the same windows into the
same private influxd: windows/s, CPU per window of the processor and of influxd, RSS; then the
writer alone (ours and node-influx's), the cost of each stage and the heap per series. Ends with
one line of JSON (docs/benchmarks.md).

      --series N          series of the fleet (10000)
      --agents N          agents sending them (20)
      --warmup N          rounds not timed (3)
      --rounds N          rounds timed (30)
      --big-series N      series of the big run (100000)
      --big-rounds N      rounds of the big run (3)
      --workers N         detection.workers of the processor (default: its own, the cores it may use)
      --node-flags FLAGS  Node and V8 flags of the processor runs, space-separated (e.g. the service
                          file's: --max-semi-space-size=4)
      --detector NAME     detection.detector of the processor runs, the devices' detector off
                          (static-threshold: next to no state, the memory of the processor itself)
      --profile DIR       CPU profiles of the shared run's processor into DIR
      --heap-snapshots DIR  heap snapshots of every processor thread after the shared and big
                          runs' timed part, into DIR/shared and DIR/big (bench/dist/cloud/heap-summary.js reads them)
      --pinned-repeats N  pinned pairs, reference then processor, alternated; the median pair's ratio
                          is the figure (3)
      --writer-passes N   passes of the writer comparison (2)
      --state-series N    series of the heap-per-series measurement (2000)
      --state-windows N   windows each of them has seen by then (150; 4400 fills every history: three days of minute windows)
      --skip LIST         runs to leave out, comma-separated: pinned, big, writer, stages, state
  -h, --help              prints this and exits
`;

/** The command line of bench:cloud (cloud.ts says what each run measures); bad values exit 2 naming the flag. */
export function cloudArgs() {
  const { values } = parseCommandLine('bench:cloud', USAGE, {
    options: {
      series: { type: 'string', default: '10000' },
      agents: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '30' },
      'big-series': { type: 'string', default: '100000' },
      'big-rounds': { type: 'string', default: '3' },
      /** detection.workers for the processor runs; unset: its default (the cores available to it). */
      workers: { type: 'string' },
      /** Node/V8 flags of the processor's process, space-separated. */
      'node-flags': { type: 'string', default: '' },
      /** detection.detector for the processor runs (devices' detector off); unset: the default ensemble. */
      detector: { type: 'string' },
      /** Heap snapshots of the shared and big processor runs (every thread) into DIR/shared and DIR/big. */
      'heap-snapshots': { type: 'string' },
      /** Write CPU profiles (.cpuprofile, one per thread) of the shared processor run into this directory. */
      profile: { type: 'string' },
      /** Pinned pairs (reference, then processor), alternated; the median pair's ratio is reported. */
      'pinned-repeats': { type: 'string', default: '3' },
      /** Passes of the writer comparison (each writes every timed window once with each writer, alternated). */
      'writer-passes': { type: 'string', default: '2' },
      /** The heap-per-series measurement: its series, and the windows each has seen (4400 fill drift's three days). */
      'state-series': { type: 'string', default: '2000' },
      'state-windows': { type: 'string', default: '150' },
      /** Runs to leave out: pinned, big, writer, stages, state. */
      skip: { type: 'string', default: '' },
    },
  });
  // Every count a whole number at or above its least (the median of no pairs, a run of no series or
  // no rounds, is nothing to report; untimed warm-up rounds may be none).
  const least: Record<string, number> = {
    series: 1,
    agents: 1,
    warmup: 0,
    rounds: 1,
    'big-series': 1,
    'big-rounds': 1,
    workers: 0,
    'pinned-repeats': 1,
    'writer-passes': 1,
    'state-series': 1,
    'state-windows': 1,
  };
  for (const [flag, min] of Object.entries(least)) {
    const given = (values as Record<string, string | boolean | undefined>)[flag];
    if (given === undefined) continue;
    const n = Number(given);
    if (typeof given !== 'string' || given.trim() === '' || !Number.isInteger(n) || n < min)
      commandLineError(
        'bench:cloud',
        USAGE,
        `--${flag} must be a whole number${min === 0 ? '' : ` above ${min - 1}`}, not ${given}${flag === 'pinned-repeats' ? ' (--skip pinned leaves the pinned runs out)' : ''}`,
      );
  }
  const pinnedRepeats = Number(values['pinned-repeats']);
  return { values, pinnedRepeats };
}
