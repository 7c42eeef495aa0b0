import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BrokerAcl, covers } from './acl.js';

test('a subscription is allowed only when an allowed filter covers every topic it can match', () => {
  assert.equal(covers('tributary/v1/alerts/#', 'tributary/v1/alerts/#'), true);
  assert.equal(covers('tributary/v1/alerts/#', 'tributary/v1/alerts/d1/+'), true);
  assert.equal(covers('tributary/v1/alerts/#', 'tributary/v1/#'), false, 'wider than allowed');
  assert.equal(
    covers('tributary/v1/alerts/#', 'tributary/v1/+/d1'),
    false,
    'a wildcard where a fixed level is required',
  );
  assert.equal(covers('tributary/v1/agents/+/status', 'tributary/v1/agents/gw/status'), true);
  assert.equal(covers('tributary/v1/agents/+/status', 'tributary/v1/agents/gw/status/x'), false);
  assert.equal(covers('tributary/v1/agents/gw/acks', 'tributary/v1/agents/gw/acks'), true);
  assert.equal(covers('tributary/v1/agents/gw/acks', 'tributary/v1/agents/+/acks'), false);
});

test('agents publish only their own batches and status, readers nothing', () => {
  const acl = new BrokerAcl(
    [
      { username: 'gw', password: 'secret-gw', role: 'agent' },
      { username: 'dash', password: 'secret-dash', role: 'reader' },
    ],
    'tributary-cloud',
  );
  const gw = acl.authenticate('tributary-agent-gw', 'gw', Buffer.from('secret-gw'));
  assert.ok(gw);
  assert.equal(acl.authenticate('tributary-agent-gw', 'gw', Buffer.from('secret-g')), undefined);
  assert.equal(
    acl.authenticate('other-id', 'gw', Buffer.from('secret-gw')),
    undefined,
    'an agent connects under its own client id',
  );
  assert.equal(
    acl.authenticate('tributary-agent-x', 'dash', Buffer.from('secret-dash')),
    undefined,
    'a reader cannot take an agent’s client id',
  );
  assert.equal(acl.mayPublish(gw, 'tributary/v1/agents/gw/batches'), true);
  assert.equal(acl.mayPublish(gw, 'tributary/v1/agents/gw2/batches'), false);
  assert.equal(acl.mayPublish(gw, 'tributary/v1/agents/gw/acks'), false, 'no forged acks');
  const dash = acl.authenticate('grafana-1', 'dash', Buffer.from('secret-dash'));
  assert.ok(dash);
  assert.equal(acl.mayPublish(dash, 'tributary/v1/alerts/d/m'), false);
  assert.equal(acl.maySubscribe(dash, 'tributary/v1/agents/+/status'), true);
  assert.equal(acl.maySubscribe(dash, 'tributary/v1/agents/+/acks'), false);
});
