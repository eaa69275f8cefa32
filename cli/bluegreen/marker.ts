/**
 * Where a cut-over stands, kept on blue as the comment of blue's database, so that any later run
 * (from any machine) knows it: frozen since when, and whether the cut-over completed. It is written
 * in the same transaction as the change it records.
 */

export type Marker =
  | { readonly state: 'frozen'; readonly name: string; readonly frozenSince: string }
  | { readonly state: 'cut-over'; readonly name: string; readonly frozenSince: string; readonly cutOverAt: string };

const PREFIX = 'keycloak-aurora-dr bluegreen';
const PATTERN = new RegExp(`^${PREFIX} ([a-z_][a-z0-9_]*): (?:cut over at (\\S+), )?frozen since (\\S+)$`);

export function formatMarker(marker: Marker): string {
  return marker.state === 'frozen'
    ? `${PREFIX} ${marker.name}: frozen since ${marker.frozenSince}`
    : `${PREFIX} ${marker.name}: cut over at ${marker.cutOverAt}, frozen since ${marker.frozenSince}`;
}

/** The marker in a database comment, or undefined when the comment is not one (or there is none). */
export function parseMarker(comment: string | null | undefined): Marker | undefined {
  const match = PATTERN.exec(comment ?? '');
  if (!match) return undefined;
  const [, name, cutOverAt, frozenSince] = match;
  return cutOverAt ? { state: 'cut-over', name, frozenSince, cutOverAt } : { state: 'frozen', name, frozenSince };
}
