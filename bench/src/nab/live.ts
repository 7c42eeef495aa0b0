import type { ProcessorConfig } from '@tributary/firmware-schemas';
import { replay } from '@tributary/cloud-processor';
import { csvPoints } from '@tributary/cloud-processor';
import type { NabCorpus } from './corpus.js';
import type { ScoredFile } from './score.js';

/** The score of a row where an alert opened; every other row scores 0. Scored at this threshold. */
export const OPENED = 1;

/**
 * The live alert decision on every file of a corpus: each file replayed through exactly what
 * `tributary-replay csv` runs (the processor's detection, its alert lifecycle and the config's
 * detection and alert settings), and each row where an alert opened scored as a detection. NAB
 * counts every detection outside a window as a false positive, so an alert that stays open costs
 * nothing more; one that opens again does.
 */
export function liveDetections(corpus: NabCorpus, config: ProcessorConfig): ScoredFile[] {
  return corpus.files.map((f) => {
    const points = csvPoints(f.name, f.rows);
    const opened = new Set(
      replay(config, new Map([['nab', points]]))
        .alerts.filter((a) => a.state === 'opened')
        .map((a) => a.openedAt),
    );
    const scores = new Float64Array(f.rows.length);
    // An alert opens on an accepted row; a later row repeating its timestamp is skipped live.
    for (let i = 0; i < f.rows.length; i++) {
      if (opened.delete(f.rows[i]!.ts)) scores[i] = OPENED;
    }
    return { name: f.name, windows: f.windows, scores };
  });
}
