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
  const pinnedRepeats = Number(values['pinned-repeats']);
  // The median of no pairs is nothing to report: at least one pair.
  if (!Number.isInteger(pinnedRepeats) || pinnedRepeats < 1)
    commandLineError(
      'bench:cloud',
      USAGE,
      `--pinned-repeats must be a whole number above 0, not ${values['pinned-repeats']} (--skip pinned leaves the pinned runs out)`,
    );
  return { values, pinnedRepeats };
}
