import { test } from 'node:test';
import { endToEnd } from './scenario.js';

test('end to end through an external Mosquitto broker into a real influxd', { timeout: 120_000 }, (t) =>
  endToEnd(t, 'mosquitto'),
);
