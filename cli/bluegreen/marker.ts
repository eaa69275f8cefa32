/**
 * Where a cut-over stands, kept on blue as the comment of blue's database, so that any later run
 * (from any machine) knows it: frozen since when, whether the cut-over completed, whether blue still
 * receives green's writes (the rollback window), and whether a rollback froze green. It is written
 * in the same transaction as the change it records, or before a change on green it announces.
 */

export type Marker =
  | { readonly state: 'frozen'; readonly name: string; readonly frozenSince: string }
  /** `rollbackOpen`: blue subscribes to green and is fenced, so `rollback` can move writes back. */
  | { readonly state: 'cut-over'; readonly name: string; readonly frozenSince: string; readonly cutOverAt: string; readonly rollbackOpen: boolean }
  /** A rollback froze green (read-only for new sessions) at `rollingBackSince` and has not completed. */
  | { readonly state: 'rolling-back'; readonly name: string; readonly frozenSince: string; readonly cutOverAt: string; readonly rollingBackSince: string };

const PREFIX = 'keycloak-aurora-dr bluegreen';
const PATTERN = new RegExp(`^${PREFIX} ([a-z_][a-z0-9_]*): (?:rolling back since (\\S+), )?(?:cut over at (\\S+)( with rollback open)?, )?frozen since (\\S+)$`);

export function formatMarker(marker: Marker): string {
  const frozen = `frozen since ${marker.frozenSince}`;
  switch (marker.state) {
    case 'frozen': return `${PREFIX} ${marker.name}: ${frozen}`;
    case 'cut-over': return `${PREFIX} ${marker.name}: cut over at ${marker.cutOverAt}${marker.rollbackOpen ? ' with rollback open' : ''}, ${frozen}`;
    case 'rolling-back': return `${PREFIX} ${marker.name}: rolling back since ${marker.rollingBackSince}, cut over at ${marker.cutOverAt} with rollback open, ${frozen}`;
  }
}

/** The marker in a database comment, or undefined when the comment is not one (or there is none). */
export function parseMarker(comment: string | null | undefined): Marker | undefined {
  const match = PATTERN.exec(comment ?? '');
  if (!match) return undefined;
  const [, name, rollingBackSince, cutOverAt, rollbackOpen, frozenSince] = match;
  if (rollingBackSince) return cutOverAt && rollbackOpen ? { state: 'rolling-back', name, frozenSince, cutOverAt, rollingBackSince } : undefined;
  return cutOverAt ? { state: 'cut-over', name, frozenSince, cutOverAt, rollbackOpen: Boolean(rollbackOpen) } : { state: 'frozen', name, frozenSince };
}

/** Blue receives green's writes: a cut-over with the rollback window open, or a rollback under way. */
export function rollbackWindowOpen(marker: Marker | undefined): boolean {
  return marker?.state === 'rolling-back' || (marker?.state === 'cut-over' && marker.rollbackOpen);
}

/** How a comment holding one value of run `name` starts: the marker's prefix, the run, and what the value is. */
const recordOf = (name: string, what: string) => `${PREFIX} ${name}: ${what} `;

/** The value after `record` in a comment, or undefined when the comment is no such record. */
const valueAfter = (comment: string | null | undefined, record: string) => (comment?.startsWith(record) ? comment.slice(record.length) : undefined);

const ROLLED_BACK = 'rolled back to blue at';

/** What green's database comment says once a rollback has moved everything green holds to blue. */
export function formatRolledBack(name: string, at: string): string {
  return `${recordOf(name, ROLLED_BACK)}${at}`;
}

/** When the rollback of run `name` finished green's part, from green's database comment. */
export function rolledBackAt(comment: string | null | undefined, name: string): string | undefined {
  return valueAfter(comment, recordOf(name, ROLLED_BACK));
}

const CLONE_START = 'a clone of blue that starts after';

/**
 * What green's database comment says between `upgrade-clone` reading where the clone starts and
 * `attach --clone` subscribing from there: the in-place upgrade rewrites the cluster, after which
 * Aurora no longer says where the clone began. Green holds it, so it goes with the clone it describes.
 */
export function formatCloneStart(name: string, lsn: string): string {
  return `${recordOf(name, CLONE_START)}${lsn}`;
}

/** The start recorded by formatCloneStart for run `name`, or undefined. */
export function recordedCloneStart(comment: string | null | undefined, name: string): string | undefined {
  return valueAfter(comment, recordOf(name, CLONE_START));
}
