export * from './line-bytes.js';
export * from './line-protocol.js';
export * from './point-fields.js';
export * from './points.js';
export * from './query.js';
export * from './stored-rows.js';
export * from './window-input.js';
