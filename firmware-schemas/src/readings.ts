/**
 * The readings of one message (metric name → value) in an object no metric name can escape: its
 * prototype is an empty, frozen object without a prototype, so a name the message did not hold
 * (`constructor`, `toString`) finds nothing, and a `for…in` walks nothing but the readings even
 * if something was added to Object.prototype. Metric names are a stranger's (DESIGN.md: names are
 * data, never keys of plain objects).
 *
 * Made by a constructor rather than Object.create(null): V8 keeps such objects in fast mode, while
 * a null-prototype object starts as a dictionary, about three times slower to fill and walk, and
 * this is the agent's per-message path.
 */
function Readings(this: object): void {}
Readings.prototype = Object.freeze(Object.create(null) as object);

/** An empty readings object. */
export function emptyReadings(): Record<string, number> {
  return new (Readings as unknown as new () => Record<string, number>)();
}

/** The own readings of `values`, copied into a readings object. */
export function readingsOf(values: Readonly<Record<string, number>>): Record<string, number> {
  return Object.assign(emptyReadings(), values);
}
