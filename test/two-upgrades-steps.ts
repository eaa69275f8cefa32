/** The configuration changes of two blue/green upgrades in a row, as the README walks through them. */
import { EnvironmentInput, environments } from '../environments';

export type BlueGreenInput = NonNullable<EnvironmentInput['blueGreen']>;
const staging = environments.find((env) => env.name === 'staging')!;
/** staging at an engine version, with these blue/green settings. */
export const at = (engineVersion: string, blueGreen: BlueGreenInput): EnvironmentInput => ({ ...staging, engineVersion, blueGreen });

/** Each step: what the operator sets, what it leaves live, and which slot (if any) it retires. */
export const steps: ReadonlyArray<{ readonly label: string; readonly env: EnvironmentInput; readonly retires?: 'blue' | 'green' }> = [
  { label: 'blue on 15', env: at('15.13', { enabled: true }) },
  // Upgrade 1: green, a clone of blue, upgraded in place to 16, made global, cut over to.
  { label: 'green cloned', env: at('15.13', { enabled: true, green: true, greenEngineVersion: '16.6' }) },
  { label: 'green global', env: at('15.13', { enabled: true, green: true, greenGlobal: true, greenEngineVersion: '16.6' }) },
  { label: 'green live', env: at('15.13', { enabled: true, green: true, greenGlobal: true, greenEngineVersion: '16.6', live: 'green' }) },
  { label: 'blue unprotected', env: at('15.13', { enabled: true, green: true, greenGlobal: true, greenEngineVersion: '16.6', live: 'green', blueClusters: 'unprotected' }) },
  { label: 'blue retired', env: at('15.13', { enabled: true, green: true, greenGlobal: true, greenEngineVersion: '16.6', live: 'green', blueClusters: 'retired' }), retires: 'blue' },
  // Upgrade 2, roles swapped: blue made again as a clone of green, upgraded in place to 17, made global, cut over to.
  { label: 'blue cloned from green', env: at('17.6', { enabled: true, green: true, greenGlobal: true, greenEngineVersion: '16.6', live: 'green', blueSource: 'green' }) },
  { label: 'blue global', env: at('17.6', { enabled: true, green: true, greenGlobal: true, greenEngineVersion: '16.6', live: 'green', blueSource: 'green', blueGlobal: true }) },
  { label: 'blue live', env: at('17.6', { enabled: true, green: true, greenGlobal: true, greenEngineVersion: '16.6', blueSource: 'green', blueGlobal: true }) },
  { label: 'green unprotected', env: at('17.6', { enabled: true, green: true, greenGlobal: true, greenEngineVersion: '16.6', blueSource: 'green', blueGlobal: true, greenClusters: 'unprotected' }) },
  { label: 'green retired', env: at('17.6', { enabled: true, green: true, greenEngineVersion: '16.6', blueSource: 'green', blueGlobal: true, greenClusters: 'retired' }), retires: 'green' },
  // The third starts like the first: green cloned from blue, in the same place under the same names.
  { label: 'green cloned again', env: at('17.6', { enabled: true, green: true, greenEngineVersion: '17.6', blueSource: 'green', blueGlobal: true }) },
];
