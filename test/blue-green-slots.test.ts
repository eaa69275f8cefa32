/**
 * What the configuration decides along two upgrades in a row: the slot a run moves the writes to,
 * which slots are global databases, and the combinations it refuses (the stacks of each step are
 * compared in two-upgrades.test.ts).
 */
import { parseEnvironments, slotIsGlobal, upgradeTargetSlot } from '../environments';
import { BlueGreenInput, at, steps } from './two-upgrades-steps';

describe('blue/green slots over two upgrades', () => {
  test.each(steps.map((step) => [step.label, step.env] as const))('%s is a valid environment', (_, env) => {
    expect(() => parseEnvironments([env])).not.toThrow();
  });

  test('each step names the slot a run moves the writes to, and which slots are global databases', () => {
    const slots = steps.map(({ label, env }) => {
      const [config] = parseEnvironments([env]);
      return `${label}: → ${upgradeTargetSlot(config) ?? 'none'}; global ${(['blue', 'green'] as const).filter((slot) => slotIsGlobal(config, slot)).join(' ') || 'none'}`;
    });
    expect(slots).toEqual([
      'blue on 15: → none; global blue',
      'green cloned: → green; global blue',
      'green global: → green; global blue green',
      'green live: → none; global blue green',
      'blue unprotected: → none; global blue green',
      'blue retired: → none; global green',
      'blue cloned from green: → blue; global green',
      'blue global: → blue; global blue green',
      'blue live: → green; global blue green',
      'green unprotected: → green; global blue green',
      'green retired: → none; global blue',
      'green cloned again: → green; global blue',
    ]);
    // And at the end of the third upgrade, blue retired again: nothing to move to until blue is made from green once more.
    const [thirdDone] = parseEnvironments([at('17.6', { enabled: true, green: true, greenGlobal: true, greenEngineVersion: '17.6', live: 'green', blueSource: 'green', blueClusters: 'retired' })]);
    expect([upgradeTargetSlot(thirdDone), slotIsGlobal(thirdDone, 'blue'), slotIsGlobal(thirdDone, 'green')]).toEqual([undefined, false, true]);
  });

  test.each<[string, BlueGreenInput, RegExp]>([
    ['blue made from green live before it is global', { enabled: true, green: true, greenEngineVersion: '16.6', blueSource: 'green' },
      /blueGreen\.live: blue made from green takes the writes only as a global database over every Region \(blueGlobal: true\)/],
    ['green retired while it is live', { enabled: true, green: true, greenGlobal: true, greenEngineVersion: '16.6', live: 'green', greenClusters: 'retired' },
      /blueGreen\.greenClusters: retired: green's clusters may lose their protection or go only once blue takes the writes \(live: 'blue'\)/],
    ['a retired slot still global', { enabled: true, green: true, greenGlobal: true, greenEngineVersion: '16.6', blueSource: 'green', blueGlobal: true, greenClusters: 'retired' },
      /blueGreen\.greenGlobal: a retired green is not global: set greenGlobal: false with greenClusters: 'retired'/],
    ['blue made from green without green\'s version', { enabled: true, green: true, greenGlobal: true, live: 'green', blueSource: 'green' },
      /blueGreen\.greenEngineVersion: is required with blueSource: 'green': blue's clone is created on the version green runs/],
    ['blue made from green without a green', { enabled: true, greenEngineVersion: '16.6', blueSource: 'green', blueGlobal: true },
      /blueGreen\.blueSource: blue made from green needs green: true/],
    ['blueGlobal on blue made new', { enabled: true, blueGlobal: true }, /blueGreen\.blueGlobal: blue made new is always a global database/],
    ['green live while it is not global', { enabled: true, green: true, greenEngineVersion: '16.6', live: 'green' },
      /blueGreen\.live: green takes the writes only as a global database over every Region \(green: true, greenGlobal: true\)/],
    ['green of an older major version in the first upgrade', { enabled: true, green: true, greenEngineVersion: '16.6' },
      /blueGreen\.greenEngineVersion: 16\.6 is an older major version than blue's 17\.6: a blue\/green upgrade goes forward/],
    ['green of no version', { enabled: true, green: true, greenEngineVersion: '16' }, /blueGreen\.greenEngineVersion: must be an Aurora PostgreSQL version/],
    ['green retired without a green stack', { enabled: true, greenClusters: 'retired' }, /blueGreen\.greenClusters: retired: green's clusters are in the green stack: it needs green: true/],
  ])('the environment refuses %s', (_, blueGreen, expected) => {
    expect(() => parseEnvironments([at('17.6', blueGreen)])).toThrow(expected);
  });

  test('from the second upgrade on, either slot may run the newer version', () => {
    // Blue made from green, upgraded to 17, while green (16) is still live: not "going backwards".
    expect(() => parseEnvironments([at('17.6', { enabled: true, green: true, greenGlobal: true, greenEngineVersion: '16.6', live: 'green', blueSource: 'green' })])).not.toThrow();
  });

});
