export * from './detect/detector.js';
export * from './detect/registry.js';
export { TailCalibrator, SurpriseMeter, CalibrationConfig } from './detect/tail-calibrator.js';
export * from './nab/csv.js';
export * from './nab/score.js';
export * from './nab/corpus.js';
export * from './nab/run.js';
