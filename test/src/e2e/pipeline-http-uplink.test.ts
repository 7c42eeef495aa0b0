import { test } from 'node:test';
import { endToEnd } from './scenario.js';

test('end to end with the HTTP uplink (POST, ack after the write) into a real influxd', { timeout: 120_000 }, (t) =>
  endToEnd(t, 'embedded aedes', 'http'),
);
