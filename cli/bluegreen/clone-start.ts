/** Where a subscription on a clone of blue starts: the decisions of `attach --clone` and `upgrade-clone`. */
import { refuse } from '../errors';

/** The clone's start as the operator gave it, as green recorded it before an upgrade, or to be read from Aurora now. */
export type CloneStart = { readonly from: 'given' | 'recorded'; readonly lsn: string } | { readonly from: 'aurora' };

const LSN = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i;

/** Whether text is an LSN as PostgreSQL writes one (`16/B374D848`). */
export function isLsn(text: string): boolean {
  return LSN.test(text);
}

/** Two LSNs written alike or not (`01/a0` is `1/A0`); text that is no LSN is the same as nothing. */
function sameLsn(a: string, b: string): boolean {
  const parts = (lsn: string) => (LSN.exec(lsn) ?? []).slice(1).map((part) => parseInt(part, 16));
  const [aParts, bParts] = [parts(a), parts(b)];
  return aParts.length === 2 && aParts[0] === bParts[0] && aParts[1] === bParts[1];
}

/**
 * Which LSN a clone's subscription starts after. Aurora's `aurora_volume_logical_start_lsn()` says
 * it only while the clone is as it was cloned: an in-place major upgrade rewrites the cluster, so a
 * green of another major version than blue's needs the start read before the upgrade (recorded by
 * `upgrade-clone`, or given). A given start that contradicts the recorded one is refused: one of
 * them is not this clone's, and the wrong one skips or repeats writes.
 */
export function cloneStart(input: { readonly given?: string; readonly recorded?: string; readonly blueMajor: number; readonly greenMajor: number }): CloneStart {
  const { given, recorded, blueMajor, greenMajor } = input;
  if (given !== undefined && recorded !== undefined && !sameLsn(given, recorded)) {
    throw refuse(`--clone-lsn ${given} is not where green says the clone starts (${recorded}, recorded before its upgrade); leave --clone-lsn out, or make the clone again if the record is wrong; nothing was changed`);
  }
  if (given !== undefined) return { from: 'given', lsn: given };
  if (recorded !== undefined) return { from: 'recorded', lsn: recorded };
  if (greenMajor !== blueMajor) {
    throw refuse(`green runs PostgreSQL ${greenMajor} and blue ${blueMajor}: green was upgraded after it was cloned, so aurora_volume_logical_start_lsn() no longer says where the clone starts. ` +
      'Give --clone-lsn with the LSN read before the upgrade, or make the clone again and upgrade it with "bluegreen upgrade-clone", which records it first; nothing was changed');
  }
  return { from: 'aurora' };
}
