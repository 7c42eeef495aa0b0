import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchesUrl } from './http.js';

test('batches go to {url}/api/v1/batches, keeping the path of a cloud behind a reverse proxy', () => {
  assert.equal(batchesUrl('http://127.0.0.1:8080').href, 'http://127.0.0.1:8080/api/v1/batches');
  assert.equal(batchesUrl('http://127.0.0.1:8080/').href, 'http://127.0.0.1:8080/api/v1/batches');
  assert.equal(batchesUrl('https://cloud.example/tributary').href, 'https://cloud.example/tributary/api/v1/batches');
  assert.equal(batchesUrl('https://cloud.example/tributary/').href, 'https://cloud.example/tributary/api/v1/batches');
});
