/**
 * The NAB scoring rules (see shared/nab/README.md, "Scoring rules"; clause numbers below refer
 * to its list). Pure: files and scores in, figures out.
 */
/** A profile's weights (`profiles.json` CostMatrix; `tnWeight` is unused, clause 7). */
export interface Profile {
    readonly tpWeight: number;
    readonly fpWeight: number;
    readonly fnWeight: number;
}
/** One file to score: its windows as inclusive row ranges, and a score in [0, 1] per row. */
export interface ScoredFile {
    readonly name: string;
    readonly windows: readonly (readonly [number, number])[];
    readonly scores: ArrayLike<number>;
}
/** A file's figures at the chosen threshold. */
export interface FileResult {
    raw: number;
    windows: number;
    windowsDetected: number;
    tpRows: number;
    fpRows: number;
}
export interface ProfileResult extends FileResult {
    /** The best global threshold; 1.1 means "no detections at all" (clause 8). */
    threshold: number;
    normalized: number;
    nullRaw: number;
    perfectRaw: number;
    perFile: Record<string, FileResult>;
}
/** Threshold that stands for "no detections at all" (clause 8). */
export declare const NO_DETECTIONS = 1.1;
/** Clause 2: rows before P are not scored. */
export declare function probationaryRows(n: number): number;
/** Clause 3: the scaled sigmoid. */
export declare function scaledSigmoid(y: number): number;
/**
 * Clause 4: the weight of a detection at every row, and the window (index into `windows`) each
 * row falls in, or -1 outside windows.
 */
export declare function rowWeights(n: number, windows: readonly (readonly [number, number])[], p: Profile): {
    weight: Float64Array;
    window: Int32Array;
};
/**
 * The files' figures at a given threshold, file by file and summed, normalised over their windows
 * (clause 9): a threshold fitted elsewhere (cross-validation), or a fixed decision such as opened
 * alerts (score 1 at the rows where an alert opened, threshold 1).
 */
export declare function scoreAtThreshold(files: readonly ScoredFile[], prof: Profile, threshold: number): ProfileResult;
/**
 * Scores the files under one profile: the exact search for the best global threshold (clause 8)
 * and the normalised score over the windows of these files (clause 9).
 */
export declare function scoreProfile(files: readonly ScoredFile[], prof: Profile): ProfileResult;
/** Scores the files under every profile. */
export declare function scoreAll(files: readonly ScoredFile[], profiles: Readonly<Record<string, Profile>>): Record<string, ProfileResult>;
