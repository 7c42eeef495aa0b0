import { test } from 'node:test';
import { endToEnd } from './scenario.js';

test('end to end through the embedded aedes broker into a real influxd', { timeout: 120_000 }, (t) =>
  endToEnd(t, 'embedded aedes'),
);
