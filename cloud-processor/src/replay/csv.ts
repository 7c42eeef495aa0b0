/**
 * Reading NAB's files. Rows are identified by position (0-based, header not counted): a few NAB
 * files repeat or step back in time, so a timestamp is not a key. Some files end without a final
 * newline, and Windows line ends are tolerated.
 */

/** One data row of a NAB series. */
export interface NabRow {
  /** The timestamp as written, `YYYY-MM-DD HH:MM:SS` (no time zone). */
  readonly timestamp: string;
  /** The timestamp read as UTC, in ms since the epoch. */
  readonly ts: number;
  readonly value: number;
}

/** Splits text into non-empty lines, whatever the line ends and whether or not it ends with one. */
export function lines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.length > 0);
}

/**
 * NAB timestamps carry no zone; reading them as UTC keeps the spacing of rows exact (no daylight
 * saving jumps), which is all a detector needs. Accepts an optional fraction (`.000000`).
 */
export function parseNabTimestamp(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?$/.exec(s.trim());
  if (!m) throw new Error(`not a NAB timestamp: ${JSON.stringify(s)}`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

/** A window label's timestamp without its fraction, so it compares equal to a row's. */
export function trimFraction(s: string): string {
  return s.replace(/\.\d+$/, '');
}

/** Parses a NAB data file (`timestamp,value` with a header). */
export function parseSeriesCsv(text: string, name = 'series'): NabRow[] {
  const all = lines(text);
  const header = all[0]?.split(',').map((h) => h.trim());
  if (header?.[0] !== 'timestamp' || header[1] !== 'value') {
    throw new Error(`${name}: expected the header "timestamp,value", got ${JSON.stringify(all[0])}`);
  }
  const rows: NabRow[] = [];
  for (let i = 1; i < all.length; i++) {
    const line = all[i]!;
    const comma = line.indexOf(',');
    const timestamp = line.slice(0, comma).trim();
    const value = Number(line.slice(comma + 1));
    if (comma < 0 || !Number.isFinite(value))
      throw new Error(`${name}: row ${i - 1} is not "timestamp,value": ${JSON.stringify(line)}`);
    rows.push({ timestamp, ts: parseNabTimestamp(timestamp), value });
  }
  return rows;
}

/**
 * Parses a results file: a header naming the columns `file`, `row` and `score` (or NAB's
 * `anomaly_score`), one line per scored row; other columns (e.g. `timestamp`) are ignored. Rows a
 * file does not list score 0. Returns, per file, a map from row index to score.
 */
export function parseResultsCsv(text: string): Map<string, Map<number, number>> {
  const all = lines(text);
  const header = (all[0] ?? '').split(',').map((h) => h.trim());
  const fileCol = header.indexOf('file');
  const rowCol = header.indexOf('row');
  const scoreCol = header.indexOf('score') >= 0 ? header.indexOf('score') : header.indexOf('anomaly_score');
  if (fileCol < 0 || rowCol < 0 || scoreCol < 0) {
    throw new Error(
      `results: the header must name file, row and score (or anomaly_score), got ${JSON.stringify(all[0])}`,
    );
  }
  const out = new Map<string, Map<number, number>>();
  for (let i = 1; i < all.length; i++) {
    const cells = all[i]!.split(',');
    const file = cells[fileCol]?.trim() ?? '';
    const row = Number(cells[rowCol]);
    const score = Number(cells[scoreCol]);
    if (!file || !Number.isInteger(row) || row < 0 || !Number.isFinite(score)) {
      throw new Error(`results: line ${i + 1} is not file,row,score: ${JSON.stringify(all[i])}`);
    }
    let m = out.get(file);
    if (!m) out.set(file, (m = new Map()));
    m.set(row, score);
  }
  return out;
}
