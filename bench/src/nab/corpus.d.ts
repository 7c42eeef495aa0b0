import { type NabRow } from '@tributary/cloud-processor';
import type { Profile } from './score.js';
/** One labelled NAB series: its rows and its windows as inclusive row ranges. */
export interface NabFile {
    /** `<category>/<file>.csv`, as in NAB's label files. */
    readonly name: string;
    readonly rows: readonly NabRow[];
    readonly windows: readonly (readonly [number, number])[];
}
export interface NabCorpus {
    readonly dir: string;
    readonly files: readonly NabFile[];
    readonly profiles: Readonly<Record<string, Profile>>;
}
/**
 * Maps each window's `[start, end]` timestamps to the rows that carry them. Rows are matched by
 * exact timestamp (the README guarantees each end names a data row, never a repeated one); the
 * end is searched from the start on, so a file that steps back in time still maps to one range.
 */
export declare function windowsToRows(name: string, rows: readonly NabRow[], windows: readonly (readonly [string, string])[]): [number, number][];
/** NAB's `profiles.json` → the three weights of each profile (`tnWeight` is unused). */
export declare function parseProfiles(text: string): Record<string, Profile>;
/**
 * Loads a NAB folder (`data/<category>/*.csv`, `labels/combined_windows.json`,
 * `config/profiles.json`). Files are in sorted order so every run sums in the same order.
 * A data file without a label entry is scored as having no windows.
 */
export declare function loadCorpus(dir: string): NabCorpus;
/** A NAB folder that cannot be scored (no data files): a benchmark over it would print 0.00 and mean nothing. */
export declare class NabCorpusError extends Error {
    readonly code = "NAB_CORPUS";
}
/**
 * Where the NAB subset is: NAB_DIR when set, else the shared folder beside the repository
 * (`../shared/nab`) when it is there, else the copy vendored in `bench/nab` (the same
 * files, MIT-licensed, so the scorer's golden test and the benchmark run on any clone).
 */
export declare function defaultNabDir(repoRoot: string): string;
/** Per-row scores for every file of the corpus from a parsed results file (unlisted rows 0). */
export declare function scoresFromResults(corpus: NabCorpus, results: ReadonlyMap<string, ReadonlyMap<number, number>>): {
    name: string;
    windows: NabFile['windows'];
    scores: Float64Array;
}[];
