import { Writable } from 'node:stream';
import type { Framed } from './line-framer.js';

/**
 * The end of a source's stream pipeline: hands each framed line (or framing error) to `deliver`
 * until `stopped()` says the source has stopped, after which nothing more is delivered.
 */
export function lineSink(deliver: (framed: Framed) => void, stopped: () => boolean): Writable {
  return new Writable({
    objectMode: true,
    write(framed: Framed, _encoding, done) {
      if (!stopped()) deliver(framed);
      done();
    },
  });
}
