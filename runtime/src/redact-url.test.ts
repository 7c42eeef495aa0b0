import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactUrl } from './redact-url.js';

test('a password in a URL never reaches a log line', () => {
  assert.equal(redactUrl('mqtts://gw-1:s3cr:et@broker.example:8883'), 'mqtts://gw-1:***@broker.example:8883');
  assert.equal(redactUrl('mqtt://127.0.0.1:1883'), 'mqtt://127.0.0.1:1883', 'host:port is not a login');
  assert.equal(redactUrl('mqtt://user@127.0.0.1:1883'), 'mqtt://user@127.0.0.1:1883', 'no password, nothing hidden');
  assert.equal(redactUrl('http://a:b@h/x?y=c@d'), 'http://a:***@h/x?y=c@d');
});
