export * from './detect/detector.js';
export * from './detect/registry.js';
export * from './nab/csv.js';
export * from './nab/score.js';
export * from './nab/corpus.js';
