/**
 * Where green's copy of a sequence must stand after cut-over. Logical replication does not carry
 * sequences, so `cutover` sets them from blue, in the sequence's own direction.
 */

/** A sequence's state as `SELECT last_value, is_called FROM seq` reads it. */
export interface SequenceState {
  readonly lastValue: bigint;
  readonly isCalled: boolean;
}

export interface SequenceShape {
  /** `increment_by`: negative for a descending sequence. */
  readonly increment: bigint;
  readonly cycle: boolean;
}

/** The value the next `nextval` returns. */
function nextValue(state: SequenceState, shape: SequenceShape): bigint {
  return state.isCalled ? state.lastValue + shape.increment : state.lastValue;
}

/**
 * The `setval` that puts green at or beyond blue, or undefined when green already is. "Beyond" follows
 * the direction: a descending sequence is never moved back up towards values blue handed out.
 * A cycling sequence has no order to keep, so green takes blue's state unless they are equal.
 */
export function sequenceTarget(blue: SequenceState, green: SequenceState, shape: SequenceShape): SequenceState | undefined {
  if (shape.cycle) {
    return blue.lastValue === green.lastValue && blue.isCalled === green.isCalled ? undefined : blue;
  }
  const [onBlue, onGreen] = [nextValue(blue, shape), nextValue(green, shape)];
  const greenIsBeyond = shape.increment > 0n ? onGreen >= onBlue : onGreen <= onBlue;
  return greenIsBeyond ? undefined : blue;
}
