import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckpointStore, ensureStores, FencedError, LeaseTable } from '@tributary/cloud-processor';
import { ClusterConfig } from '@tributary/firmware-schemas';
import { connect } from 'nats';
import { startNatsServer } from '../harness/nats-server.js';
import { waitFor } from '../harness/wait.js';

const record = (owner: string, epoch: number) =>
  ({ v: 1, owner, epoch, seq: 0, done: 0, released: false, snapshot: null }) as const;

test('position records: compare-and-set refuses a stale revision (FencedError); snapshots inline up to the limit, else in the object store', async (t) => {
  const nats = await startNatsServer({ t });
  const nc = await connect({ servers: nats.url });
  t.after(() => nc.close());
  const stores = await ensureStores(nc, ClusterConfig.parse({ servers: [nats.url] }));
  const store = new CheckpointStore(stores.records, stores.snapshots, 1024);
  assert.deepEqual(await store.read(5), { record: undefined, revision: 0 });
  const r1 = await store.write(5, record('p1', 1), 0);
  const r2 = await store.write(5, record('p2', 2), r1); // p2 fences p1
  await assert.rejects(store.write(5, record('p1', 1), r1), FencedError, 'p1 writes on the revision it knew: refused');
  assert.deepEqual(await store.read(5), { record: record('p2', 2), revision: r2 });
  await assert.rejects(
    store.write(6, record('p1', 1), 0).then(() => store.write(6, record('p3', 1), 0)),
    FencedError,
    'two creations of one record: the second is refused',
  );

  const small = Buffer.alloc(1000, 7);
  const large = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 251));
  const inline = await store.saveSnapshot(5, 2, 10, small);
  const object = await store.saveSnapshot(5, 2, 11, large);
  assert.ok(
    'inline' in inline && 'object' in object,
    `${JSON.stringify(inline).slice(0, 40)} ${JSON.stringify(object)}`,
  );
  assert.deepEqual(Buffer.from((await store.loadSnapshot(inline))!), small);
  assert.deepEqual(Buffer.from((await store.loadSnapshot(object))!), large);
  await store.dropSnapshot(object);
  assert.equal(await store.loadSnapshot(object), undefined, 'a dropped snapshot is gone');
});

test('leases: one holder at a time; renewal on a stale revision is lost; an unrenewed lease expires with the bucket TTL; a released one is free at once', async (t) => {
  const nats = await startNatsServer({ t });
  const nc = await connect({ servers: nats.url });
  t.after(() => nc.close());
  const { leases: kv } = await ensureStores(
    nc,
    ClusterConfig.parse({ servers: [nats.url], leaseTtlMs: 1_000, renewIntervalMs: 500 }),
  );
  const a = new LeaseTable(kv, 'a');
  const b = new LeaseTable(kv, 'b');
  await a.heartbeat({ owned: [] });
  const rev = await a.acquire(1);
  assert.ok(rev !== undefined);
  assert.equal(await b.acquire(1), undefined, 'b cannot take a live lease');
  const renewed = await a.renew(1, rev);
  assert.notEqual(renewed, 'lost');
  assert.equal(await a.renew(1, rev), 'lost', 'a renewal on a revision that moved on is lost');
  assert.deepEqual(await a.view(), { members: ['a'], leased: new Set([1]) });
  const since = Date.now();
  const taken = await waitFor('the lease to expire and b to take it', () => b.acquire(1), 5_000, 100);
  const expiredAfter = Date.now() - since;
  t.diagnostic(`a lease of TTL 1000 ms, last renewed at t=0, was taken ${expiredAfter} ms later`);
  assert.ok(expiredAfter >= 900, 'not before the TTL');
  assert.deepEqual((await b.view()).members, [], "a's heartbeat expired too");
  await b.release(1, taken);
  assert.ok((await a.acquire(1)) !== undefined, 'a released lease is free at once');
});
