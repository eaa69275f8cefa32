import { lockKey } from '../cli/bluegreen/copy';
import { formatMarker, formatRolledBack, parseMarker, rollbackWindowOpen, rolledBackAt } from '../cli/bluegreen/marker';
import { sequenceTarget } from '../cli/bluegreen/sequences';

describe('sequenceTarget', () => {
  const ascending = { increment: 1n, cycle: false };
  const descending = { increment: -1n, cycle: false };

  test.each([
    ['ascending, green behind', { lastValue: 105n, isCalled: true }, { lastValue: 6n, isCalled: true }, ascending, { lastValue: 105n, isCalled: true }],
    ['ascending, green ahead (it handed out values already)', { lastValue: 105n, isCalled: true }, { lastValue: 200n, isCalled: true }, ascending, undefined],
    ['ascending, equal', { lastValue: 105n, isCalled: true }, { lastValue: 105n, isCalled: true }, ascending, undefined],
    ['ascending, blue never called, green at the same start', { lastValue: 1n, isCalled: false }, { lastValue: 1n, isCalled: false }, ascending, undefined],
    ['ascending, blue called once from the start', { lastValue: 1n, isCalled: true }, { lastValue: 1n, isCalled: false }, ascending, { lastValue: 1n, isCalled: true }],
    // The defect: blue handed out -1 … -105, green stood at -6 and must not move back towards -1.
    ['descending, green behind', { lastValue: -105n, isCalled: true }, { lastValue: -6n, isCalled: true }, descending, { lastValue: -105n, isCalled: true }],
    ['descending, green ahead', { lastValue: -105n, isCalled: true }, { lastValue: -300n, isCalled: true }, descending, undefined],
    ['descending, equal', { lastValue: -105n, isCalled: true }, { lastValue: -105n, isCalled: true }, descending, undefined],
    ['increment 7, green one step behind', { lastValue: 121n, isCalled: true }, { lastValue: 114n, isCalled: true }, { increment: 7n, cycle: false }, { lastValue: 121n, isCalled: true }],
    ['cycling: blue wrapped below green, still taken', { lastValue: 2n, isCalled: true }, { lastValue: 90n, isCalled: true }, { increment: 1n, cycle: true }, { lastValue: 2n, isCalled: true }],
    ['cycling: equal', { lastValue: 2n, isCalled: true }, { lastValue: 2n, isCalled: true }, { increment: 1n, cycle: true }, undefined],
    ['cycling: same value, but blue handed it out and green did not', { lastValue: 2n, isCalled: true }, { lastValue: 2n, isCalled: false }, { increment: 1n, cycle: true }, { lastValue: 2n, isCalled: true }],
  ])('%s', (_name, blue, green, shape, expected) => {
    expect(sequenceTarget(blue, green, shape)).toEqual(expected);
  });
});

describe('cut-over marker', () => {
  const frozen = { state: 'frozen', name: 'keycloak_bluegreen', frozenSince: '2026-12-01T10:00:00.000Z' } as const;
  const cutOver = { ...frozen, state: 'cut-over', cutOverAt: '2026-12-01T10:00:01.500Z', rollbackOpen: false } as const;
  const windowOpen = { ...cutOver, rollbackOpen: true } as const;
  const rollingBack = { state: 'rolling-back', name: 'keycloak_bluegreen', frozenSince: frozen.frozenSince, cutOverAt: cutOver.cutOverAt, rollingBackSince: '2026-12-01T11:00:00.000Z' } as const;

  test.each([frozen, cutOver, windowOpen, rollingBack])('round-trips $state (rollback open: $rollbackOpen)', (marker) => {
    expect(parseMarker(formatMarker(marker))).toEqual(marker);
  });

  test('reads as a sentence in the database comment', () => {
    expect(formatMarker(frozen)).toBe('keycloak-aurora-dr bluegreen keycloak_bluegreen: frozen since 2026-12-01T10:00:00.000Z');
    expect(formatMarker(windowOpen)).toBe('keycloak-aurora-dr bluegreen keycloak_bluegreen: cut over at 2026-12-01T10:00:01.500Z with rollback open, frozen since 2026-12-01T10:00:00.000Z');
    expect(formatMarker(rollingBack)).toMatch(/: rolling back since 2026-12-01T11:00:00.000Z, cut over at .* with rollback open, frozen since /);
  });

  test('a marker written before rollback windows existed is a cut-over with the window closed', () => {
    expect(parseMarker('keycloak-aurora-dr bluegreen keycloak_bluegreen: cut over at 2026-12-01T10:00:01.5Z, frozen since 2026-12-01T10:00:00Z')).toMatchObject({ state: 'cut-over', rollbackOpen: false });
  });

  test.each([
    null, undefined, '', 'Keycloak production database', 'keycloak-aurora-dr bluegreen X: frozen since now',
    // A rollback is only ever of a cut-over whose window was open.
    'keycloak-aurora-dr bluegreen k: rolling back since a, cut over at b, frozen since c',
    'keycloak-aurora-dr bluegreen k: rolling back since a, frozen since c',
  ])('%p is no marker', (comment) => {
    expect(parseMarker(comment)).toBeUndefined();
  });

  test('blue receives green\'s writes with the window open and during a rollback, never before the cut-over or after the window ends', () => {
    expect([undefined, frozen, cutOver, windowOpen, rollingBack].map(rollbackWindowOpen)).toEqual([false, false, false, true, true]);
  });

  test('green says when a rollback moved everything it held to blue, for that run only', () => {
    expect(rolledBackAt(formatRolledBack('keycloak_bluegreen', '2026-12-01T11:00:02.000Z'), 'keycloak_bluegreen')).toBe('2026-12-01T11:00:02.000Z');
    expect(rolledBackAt(formatRolledBack('other_run', '2026-12-01T11:00:02.000Z'), 'keycloak_bluegreen')).toBeUndefined();
    expect(rolledBackAt(formatMarker(windowOpen), 'keycloak_bluegreen')).toBeUndefined();
    expect(rolledBackAt(null, 'keycloak_bluegreen')).toBeUndefined();
  });
});

describe('lockKey', () => {
  test('is a stable signed 32-bit integer per name', () => {
    expect(lockKey('keycloak/keycloak_bluegreen')).toBe(lockKey('keycloak/keycloak_bluegreen'));
    expect(lockKey('keycloak/keycloak_bluegreen')).not.toBe(lockKey('spare/keycloak_bluegreen'));
    for (const name of ['a', 'keycloak/keycloak_bluegreen', 'x'.repeat(200)]) {
      expect(Number.isInteger(lockKey(name))).toBe(true);
      expect(Math.abs(lockKey(name))).toBeLessThanOrEqual(2 ** 31);
    }
  });
});
