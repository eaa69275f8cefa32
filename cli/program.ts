/**
 * The command line: one command per operation, strict about unknown commands and options. The AWS
 * commands and the environments are loaded when one of them runs, so a blue/green step starts fast.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { AwsClients, Clock } from './aws';
import { isLsn } from './bluegreen/clone-start';
import { abort, attach, attachClone, blueGreenNames, check, cutover, endRollback, lag, prepare, reachedInstances, recordCloneStart, recordedCloneStartOnGreen, rollback } from './bluegreen/steps';
import type { BlueGreenContext, CutoverOptions } from './bluegreen/steps';
import { CliError, ExitCode, refuse } from './errors';
import type { Io } from './output';

export interface Runtime {
  readonly aws: AwsClients;
  readonly clock: Clock;
  readonly io: Io;
  /** Where the blue/green connection URLs and the replication password come from (never the command line). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Called at a blue/green failpoint; the real CLI kills itself there when BLUEGREEN_FAILPOINT names it. */
  readonly reach?: (failpoint: string) => unknown;
  /** How the drill's probe reaches the database. @default the writer DNS name, resolved by the OS */
  readonly network?: import('./commands/drill').DrillNetwork;
}

const positive = (unit: string) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError(`must be a positive number of ${unit}`);
  return parsed;
};

/** Runs one command line; returns the exit code instead of exiting, so tests need no process. */
export async function run(argv: readonly string[], runtime: Runtime): Promise<number> {
  const { io } = runtime;
  const deps = { aws: runtime.aws, clock: runtime.clock };
  const program = new Command('keycloak-aurora-dr')
    .description('Operate the Aurora global database behind Keycloak: preflight, status, members, switchover, failover.')
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({ writeOut: (text) => io.out(text.trimEnd()), writeErr: (text) => io.err(text.trimEnd()) });
  const json = new Option('--json', 'print JSON instead of a table');
  program.option('--environments <file>', 'the environments to operate: JSON, or a CommonJS module exporting `environments` (default: KEYCLOAK_AURORA_DR_ENVIRONMENTS, else this checkout\'s examples, else cdktf.out/keycloak-aurora-dr/environments.json)');
  /** The environment a command names, from the environments --environments or the defaults give. */
  const operatedEnvironment = async (name: string) => {
    const { loadEnvironment, environmentInputs } = await import('./environment');
    return loadEnvironment(name, environmentInputs(runtime.env, program.opts().environments));
  };

  program.command('preflight').argument('<environment>').addOption(json)
    .description('check credentials, Regions, that the global cluster id is free and that site VPCs collide with no Aurora VPC')
    .action(async (name: string, options: { json?: boolean }) => {
      const { preflight } = await import('./commands/preflight');
      await preflight(await operatedEnvironment(name), deps, io, { json: Boolean(options.json) });
    });
  program.command('status').argument('<environment>').addOption(json)
    .description('the global cluster, each member, any operation in progress, and whether the writer DNS name follows')
    .action(async (name: string, options: { json?: boolean }) => {
      const { status } = await import('./commands/status');
      await status(await operatedEnvironment(name), deps, io, { json: Boolean(options.json) });
    });
  program.command('members').argument('<environment>').addOption(json)
    .description('the member cluster ARNs')
    .action(async (name: string, options: { json?: boolean }) => {
      const { members } = await import('./commands/members');
      await members(await operatedEnvironment(name), deps, io, { json: Boolean(options.json) });
    });
  program.command('drill').argument('<environment>').addOption(json)
    .description('game day: writes through the writer DNS name while the writer moves, then reports outage, lost writes and timings')
    .requiredOption('--to <region>', 'Region whose cluster becomes the writer')
    .option('--allow-data-loss', 'fail over (FailoverGlobalCluster with AllowDataLoss) instead of switching over')
    .option('--back', 'switch back to the Region that was the writer once the first move settled')
    .option('--rate <writes>', 'probe writes per second', positive('writes per second'), 10)
    .option('--tail <seconds>', 'keep writing this long after the client writes again', positive('seconds'), 10)
    .option('--svg <file>', 'write the timeline as an SVG picture for the game-day report')
    .option('--yes-production', 'drill an environment with deletionProtection on')
    .option('--keep-probe-table', 'leave the probe table for inspection')
    .option('--timeout <minutes>', 'stop waiting for a step after this long', positive('minutes'), 30)
    .option('--poll <seconds>', 'seconds between looks', positive('seconds'), 1)
    .action(async (name: string, options: { to: string; allowDataLoss?: boolean; back?: boolean; rate: number; tail: number; svg?: string; yesProduction?: boolean; keepProbeTable?: boolean; timeout: number; poll: number; json?: boolean }) => {
      const { drill } = await import('./commands/drill');
      await drill(await operatedEnvironment(name), deps, io, {
        to: options.to,
        kind: options.allowDataLoss ? 'failover' : 'switchover',
        allowDataLoss: Boolean(options.allowDataLoss),
        back: Boolean(options.back),
        rate: options.rate,
        tailMs: options.tail * 1000,
        timeoutMs: options.timeout * 60_000,
        pollMs: options.poll * 1000,
        json: Boolean(options.json),
        svg: options.svg,
        yesProduction: Boolean(options.yesProduction),
        keepProbeTable: Boolean(options.keepProbeTable),
      }, { env: runtime.env, network: runtime.network });
    });
  program.command('writer-dns').argument('<environment>').addOption(json)
    .description('who takes writes in each Region, what the writer DNS name says and whether it is pinned; choose when two writers exist')
    .option('--to <region>', 'point the name at this Region\'s writer and pin it there (the explicit choice between two writers)')
    .option('--release', 'remove the pin, so the writer-DNS handlers keep the name on the writer again (refused while two writers exist)')
    .action(async (name: string, options: { to?: string; release?: boolean; json?: boolean }) => {
      const { writerDns } = await import('./commands/writer-dns');
      await writerDns(await operatedEnvironment(name), deps, io, { to: options.to, release: Boolean(options.release), json: Boolean(options.json) });
    });
  for (const kind of ['switchover', 'failover'] as const) {
    const command = program.command(kind).argument('<environment>')
      .description(kind === 'switchover'
        ? 'planned move of the writer to a Region, with no data loss'
        : 'unplanned move of the writer to a Region; unreplicated writes are lost, so it needs --allow-data-loss')
      .requiredOption('--to <region>', 'Region whose cluster becomes the writer')
      .option('--timeout <minutes>', 'stop waiting after this long (the operation goes on in AWS)', positive('minutes'), 30)
      .option('--poll <seconds>', 'seconds between looks while waiting', positive('seconds'), 5)
      .addOption(json);
    if (kind === 'failover') command.option('--allow-data-loss', 'accept losing writes not yet replicated to the target');
    command.action(async (name: string, options: { to: string; timeout: number; poll: number; json?: boolean; allowDataLoss?: boolean }) => {
      const { moveWriter } = await import('./commands/move-writer');
      await moveWriter(await operatedEnvironment(name), deps, io, {
        kind,
        to: options.to,
        allowDataLoss: Boolean(options.allowDataLoss),
        timeoutMs: options.timeout * 60_000,
        pollMs: options.poll * 1000,
        json: Boolean(options.json),
      });
    });
  }

  const dr = program.command('dr').description('disaster-recovery plans, run by the <env>-dr state machines (see the README)');
  dr.command('plan').argument('<environment>').description('write this environment\'s own plan (JSON) as a starting point')
    .requiredOption('--to <region>', 'Region whose cluster becomes the writer')
    .addOption(new Option('--kind <kind>', 'switchover (no data loss) or failover (AllowDataLoss)').choices(['switchover', 'failover']).default('switchover'))
    .action(async (name: string, options: { to: string; kind: 'switchover' | 'failover' }) => {
      const { environmentPlan } = await import('./commands/dr');
      io.out(JSON.stringify(environmentPlan(await operatedEnvironment(name), options.to, options.kind), null, 2));
    });
  dr.command('validate').argument('<file>').description('check a plan with the schema a run uses; nothing is started')
    .action(async (file: string) => {
      const { validatePlanFile } = await import('./commands/dr');
      validatePlanFile(readPlan(file), io);
    });
  dr.command('run').argument('<environment>').argument('<file>').description('start a plan in a Region\'s state machine and follow it to the end')
    .requiredOption('--region <region>', 'the Region to run from: the one that survives')
    .option('--dry-run', 'validate the plan and show what would run, without starting it')
    .option('--timeout <minutes>', 'stop following after this long (the run goes on in AWS)', positive('minutes'), 120)
    .option('--poll <seconds>', 'seconds between looks', positive('seconds'), 10)
    .addOption(json)
    .action(async (name: string, file: string, options: { region: string; dryRun?: boolean; timeout: number; poll: number; json?: boolean }) => {
      const { runPlan } = await import('./commands/dr');
      await runPlan(await operatedEnvironment(name), readPlan(file), deps, io, {
        region: options.region, dryRun: Boolean(options.dryRun), pollMs: options.poll * 1000, timeoutMs: options.timeout * 60_000, json: Boolean(options.json),
      });
    });

  const bluegreen = program.command('bluegreen')
    .description('blue/green through logical replication; connections from BLUEGREEN_BLUE_URL and BLUEGREEN_GREEN_URL');
  const context = (options: { json?: boolean }) => bluegreenContext(runtime, Boolean(options.json));
  bluegreen.command('check').description('settings, privileges, and tables that cannot replicate').addOption(json)
    .action(async (options: { json?: boolean }) => void (await check(context(options))));
  bluegreen.command('prepare').description('on blue: publication and replication user (password from BLUEGREEN_REPLICATION_PASSWORD)')
    .option('--for-clone', 'also create the slot, before green is cloned from blue')
    .action(async (options: { forClone?: boolean }) => prepare(context({}), { forClone: Boolean(options.forClone) }));
  bluegreen.command('attach').description('on green: a copy of blue at a slot\'s snapshot, and a subscription from there')
    .option('--clone', 'green is a clone of blue (Aurora copy-on-write): subscribe from the clone\'s start LSN instead of copying')
    .option('--clone-lsn <lsn>', 'the LSN the clone is consistent at (default: what upgrade-clone recorded on green, else aurora_volume_logical_start_lsn() on green)', (value: string) => {
      if (!isLsn(value)) throw new InvalidArgumentError('is not an LSN (two hexadecimal numbers around a slash, as 16/B374D848)');
      return value;
    })
    .action(async (options: { clone?: boolean; cloneLsn?: string }) =>
      options.clone || options.cloneLsn ? attachClone(context({}), { cloneLsn: options.cloneLsn }) : attach(context({})));
  bluegreen.command('upgrade-clone').description('before attach --clone: record where the clone starts, then upgrade it in place to the version the configuration gives the copy, and wait')
    .requiredOption('--environment <name>', 'the environment whose copy (green, or blue made from green) is upgraded')
    .option('--timeout <minutes>', 'stop waiting after this long (the upgrade goes on in AWS; run again to keep waiting)', positive('minutes'), 120)
    .option('--poll <seconds>', 'seconds between looks', positive('seconds'), 30)
    .action(async (options: { environment: string; timeout: number; poll: number }) => {
      const operated = await operatedEnvironment(options.environment);
      const stepContext = context({});
      const [{ upgradeClone }, { reachedSlotsProblem }] = await Promise.all([import('./commands/upgrade-clone'), import('./commands/writer-dns')]);
      await upgradeClone(operated, deps, io, { timeoutMs: options.timeout * 60_000, pollMs: options.poll * 1000 }, {
        urlsProblem: async () => reachedSlotsProblem(operated, await reachedInstances(stepContext)),
        record: () => recordCloneStart(stepContext),
        recorded: () => recordedCloneStartOnGreen(stepContext),
      });
    });
  bluegreen.command('lag').description('bytes behind, and time since green last confirmed').addOption(json)
    .action(async (options: { json?: boolean }) => void (await lag(context(options))));
  type SwitchFlags = { terminate?: boolean; timeout: number; json?: boolean; rowCounts: boolean; maxLagBytes: number; maxTransactionSeconds: number; environment?: string };
  /** `cutover` and `rollback`: the same freeze in opposite directions, then (with --environment) the writer's name. */
  const switchCommand = (name: string, description: string, from: 'blue' | 'green', to: 'blue' | 'green') => bluegreen.command(name).description(description)
    .option('--terminate', `end the sessions still using ${from} instead of refusing`)
    .option('--timeout <seconds>', `how long ${to} may take to catch up`, positive('seconds'), 60)
    .option('--no-row-counts', 'do not compare every table\'s row count under the freeze (it reads every table on both sides)')
    .option('--max-lag-bytes <bytes>', `refuse to freeze while ${to} is further behind`, positive('bytes'), 64 * 1024 * 1024)
    .option('--max-transaction-seconds <seconds>', `refuse to freeze while a transaction on ${from} is older`, positive('seconds'), 60)
    .option('--environment <name>', `as the last step, point this environment's writer DNS name at ${to} and wait until Route 53 has it in sync`)
    .addOption(json);
  async function switchWrites<T extends { writeFreezeMs: number }>(options: SwitchFlags, direction: 'cutover' | 'rollback', stepContext: BlueGreenContext, moveData: (context: BlueGreenContext, options: CutoverOptions) => Promise<T>): Promise<void> {
    // The environment, the name and the clusters the URLs reach are read before anything changes,
    // so a step the name could not follow stops before the freeze: a name moved against the
    // configuration would be moved back, or lead to the side that no longer takes writes.
    const operated = options.environment ? await operatedEnvironment(options.environment) : undefined;
    const names = operated && await import('./commands/writer-dns');
    if (operated && names) {
      const problem = await names.nameStepProblem(operated, deps, direction) ?? names.reachedSlotsProblem(operated, await reachedInstances(stepContext));
      if (problem) throw refuse(problem);
    }
    const result = await moveData(stepContext, {
      terminate: Boolean(options.terminate), timeoutMs: options.timeout * 1000, countRows: options.rowCounts, maxLagBytes: options.maxLagBytes, maxTransactionSeconds: options.maxTransactionSeconds,
      movesName: Boolean(operated),
    });
    if (!operated || !names) return;
    const to = names.nameDestinationSlot(operated, direction);
    let name;
    try {
      name = await (direction === 'cutover' ? names.pointNameAtTarget : names.pointNameAtLive)(operated, deps, io, options.timeout * 1000);
    } catch (error) {
      if (error instanceof CliError) throw new CliError(`${error.message}. The data moved (${to} holds every write, and the other side is fenced): run the same command again to move the name`, error.exitCode);
      throw error;
    }
    const freezeWithName = result.writeFreezeMs + (name.changed ? name.inSyncAfterMs : 0);
    if (options.json) io.out(JSON.stringify({ ...result, writerName: name, writeFreezeWithNameMs: freezeWithName }));
    else io.out(`${name.name} ${name.changed ? `names ${to} (${name.target}), in sync after ${name.inSyncAfterMs} ms` : `already named ${to}`}; ${direction === 'cutover' ? 'pinned, so the writer-DNS handlers keep it there' : `unpinned: the writer-DNS handlers keep it on ${to}'s writer`}`);
  }
  switchCommand('cutover', 'freeze blue, catch up, copy sequences, compare rows, fence blue (receiving green\'s writes for a rollback unless --no-rollback)', 'blue', 'green')
    .option('--no-rollback', 'close blue for good instead of opening a rollback window (blue then receives none of green\'s writes)')
    .action(async (options: SwitchFlags & { rollback: boolean }) =>
      switchWrites(options, 'cutover', context(options), (stepContext, switchOptions) => cutover(stepContext, { ...switchOptions, rollbackWindow: options.rollback })));
  switchCommand('rollback', 'in the rollback window: freeze green, catch blue up, copy sequences, compare rows, give blue its writes back and close green', 'green', 'blue')
    .action(async (options: SwitchFlags) => switchWrites(options, 'rollback', context(options), rollback));
  bluegreen.command('end-rollback').description('end the rollback window, keeping green: blue stops receiving green\'s writes and is closed; green\'s slot goes')
    .action(async () => endRollback(context({})));
  bluegreen.command('abort').description('before cut-over: remove subscription, slot, publication and user; blue takes writes')
    .action(async () => abort(context({})));

  try {
    await program.parseAsync(argv, { from: 'user' });
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof CliError) {
      io.err(`error: ${error.message}`);
      return error.exitCode;
    }
    throw error;
  }
}

function readPlan(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the plan ${file}: ${(error as Error).message}`, ExitCode.usage);
  }
}

function bluegreenContext(runtime: Runtime, json: boolean): BlueGreenContext {
  const { env } = runtime;
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new CliError(`${name} is not set`, ExitCode.usage);
    return value;
  };
  return {
    blueUrl: required('BLUEGREEN_BLUE_URL'),
    greenUrl: required('BLUEGREEN_GREEN_URL'),
    adminDatabase: env.BLUEGREEN_ADMIN_DATABASE || 'postgres',
    blueHostForGreen: env.BLUEGREEN_BLUE_HOST_FOR_GREEN,
    greenHostForBlue: env.BLUEGREEN_GREEN_HOST_FOR_BLUE,
    replicationPassword: env.BLUEGREEN_REPLICATION_PASSWORD,
    names: blueGreenNames(env.BLUEGREEN_NAME, env.BLUEGREEN_REPLICATION_USER),
    pgBinDir: env.BLUEGREEN_PG_BINDIR ?? '/usr/lib/postgresql/15/bin',
    io: runtime.io,
    clock: runtime.clock,
    json,
    reach: runtime.reach,
  };
}
