import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Slab } from './slab.js';

test('regions keep their values when another region grows, shrinks or is added', () => {
  const slab = new Slab();
  const a = slab.alloc(3 * 8);
  const b = slab.alloc(5 * 4);
  const c = slab.alloc(7);
  slab.f64.set([1.5, -2.25, 1e300], slab.at(a) >> 3);
  slab.f32.set([1, 2, 3, 4, 5], slab.at(b) >> 2);
  slab.u8.set([9, 8, 7, 6, 5, 4, 3], slab.at(c));
  slab.resize(a, 10 * 8);
  slab.resize(b, 3 * 4);
  slab.alloc(16);
  assert.deepEqual(
    [...slab.f64.subarray(slab.at(a) >> 3, (slab.at(a) >> 3) + 10)],
    [1.5, -2.25, 1e300, 0, 0, 0, 0, 0, 0, 0],
  );
  assert.deepEqual([...slab.f32.subarray(slab.at(b) >> 2, (slab.at(b) >> 2) + 3)], [1, 2, 3]);
  assert.deepEqual([...slab.u8.subarray(slab.at(c), slab.at(c) + 7)], [9, 8, 7, 6, 5, 4, 3]);
  assert.deepEqual([slab.bytes(a), slab.bytes(b), slab.bytes(c)], [80, 12, 7]);
});

test('every region starts at an 8-byte boundary, so any view reads it', () => {
  const slab = new Slab();
  const ids = [1, 3, 4, 9, 12].map((bytes) => slab.alloc(bytes));
  for (const id of ids) assert.equal(slab.at(id) % 8, 0);
  assert.equal(slab.byteLength, 8 + 8 + 8 + 16 + 16);
});

test('a region laid out anew (keep = false) is all zeros; its neighbours are untouched', () => {
  const slab = new Slab();
  const a = slab.alloc(8);
  const b = slab.alloc(8);
  slab.f64[slab.at(a) >> 3] = 4;
  slab.f64[slab.at(b) >> 3] = 5;
  slab.resize(a, 16, false);
  assert.deepEqual([...slab.f64], [0, 0, 5]);
});

test('the views follow the buffer when a resize moves it', () => {
  const slab = new Slab();
  const a = slab.alloc(8);
  const before = slab.f64;
  slab.resize(a, 64);
  assert.notEqual(slab.f64, before);
  slab.f64[(slab.at(a) >> 3) + 7] = 3;
  assert.equal(slab.f32.length, 2 * slab.f64.length);
  assert.equal(new Float64Array(slab.f32.buffer)[(slab.at(a) >> 3) + 7], 3);
});

test('regions grow in place while the buffer has room, the later ones moved and zeros where the new bytes are', () => {
  const slab = new Slab();
  const a = slab.alloc(800);
  const b = slab.alloc(16);
  slab.f64.set([7, 8], slab.at(b) >> 3);
  slab.resize(a, 808); // a sixteenth more (48 bytes) was left free when the buffer was made
  const view = slab.f64;
  slab.resize(a, 816);
  assert.equal(slab.f64, view, 'no new buffer');
  assert.deepEqual([...slab.f64.subarray(slab.at(b) >> 3, (slab.at(b) >> 3) + 2)], [7, 8]);
  assert.deepEqual([...slab.f64.subarray((slab.at(a) >> 3) + 100, (slab.at(a) >> 3) + 102)], [0, 0]);
  slab.resize(a, 8);
  assert.deepEqual([...slab.f64.subarray(slab.at(b) >> 3, (slab.at(b) >> 3) + 2)], [7, 8]);
  assert.equal(slab.byteLength, 24);
  slab.resize(a, 816);
  assert.deepEqual([...slab.f64.subarray(slab.at(a) >> 3, (slab.at(a) >> 3) + 102)], new Array(102).fill(0));
});

test('a slab made for a known size holds regions up to it in the one buffer it was made with', () => {
  const slab = new Slab(960);
  const first = slab.u8.buffer;
  for (let i = 0; i < 10; i++) slab.alloc(96);
  assert.equal(slab.byteLength, 960);
  assert.equal(slab.u8.buffer, first, 'no new buffer while the regions fit');
  slab.alloc(200);
  assert.notEqual(slab.u8.buffer, first);
});

test("a move into a new buffer copies every region's bytes exactly (NaNs' bits too), zeros past each region's length", () => {
  const slab = new Slab();
  const a = slab.alloc(13);
  const b = slab.alloc(16);
  const c = slab.alloc(8);
  const bytes = Array.from({ length: 13 }, (_, i) => 250 - i);
  slab.u8.set(bytes, slab.at(a));
  // Two NaNs of unusual payloads as float32s, and a signalling NaN's bits as a float64.
  slab.u32.set([0x7fa00001, 0xffc12345], slab.at(b) >> 2);
  slab.u32.set([0x00000001, 0x7ff00000], slab.at(c) >> 2);
  slab.resize(a, 5); // shrinks in place: regions b and c move down
  const before = slab.u8.buffer;
  slab.resize(a, 21); // grows past the room: all of it into a new buffer
  assert.notEqual(slab.u8.buffer, before);
  assert.deepEqual(
    [...slab.u8.subarray(slab.at(a), slab.at(a) + 24)],
    [...bytes.slice(0, 5), ...new Array(19).fill(0)],
  );
  assert.deepEqual([...slab.u32.subarray(slab.at(b) >> 2, (slab.at(b) >> 2) + 4)], [0x7fa00001, 0xffc12345, 0, 0]);
  assert.deepEqual([...slab.u32.subarray(slab.at(c) >> 2, (slab.at(c) >> 2) + 2)], [0x00000001, 0x7ff00000]);
  assert.equal(slab.byteLength, 24 + 16 + 8);
});
