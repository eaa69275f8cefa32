/**
 * `drill`: a game day measured as Keycloak sees it. A write probe runs through the writer's DNS name
 * with Keycloak's timeouts while the writer moves (with the same code as `switchover` and
 * `failover`), optionally back; then it reports the client's write outage, acknowledged writes
 * lost, how long Aurora took, how long the name took and how long the client took after both.
 */
import { lookup } from 'node:dns/promises';
import { writeFileSync } from 'node:fs';
import { waitFor } from '../aws';
import type { OperatedEnvironment } from '../environment';
import { CliError, ExitCode, refuse } from '../errors';
import { MoveKind, moveWriter, refuseWithoutAws } from './move-writer';
import { Deps, observe } from '../observe';
import { Io, formatTable } from '../output';
import { PhaseMarks, PhaseResult, analysePhase, lostWrites, timelineSvg } from '../drill/analyse';
import { WriteProbe } from '../drill/probe';

/** How the drill reaches the database: where a new connection goes, and where the name leads. */
export interface DrillNetwork {
  /** Host and port of a new connection (in production: the name itself, resolved by the OS at every connect). */
  endpoint(url: string): Promise<{ host: string; port: number }>;
  /** True when `name` now resolves to what `endpoint` resolves to. */
  leadsTo(name: string, endpoint: string): Promise<boolean>;
}

export const dnsNetwork: DrillNetwork = {
  async endpoint(url) {
    const parsed = new URL(url);
    return { host: parsed.hostname, port: Number(parsed.port || 5432) };
  },
  async leadsTo(name, endpoint) {
    const addresses = async (host: string) => (await lookup(host, { all: true }).catch(() => [])).map((entry) => entry.address).sort().join(',');
    const [fromName, fromEndpoint] = await Promise.all([addresses(name), addresses(endpoint)]);
    return fromName !== '' && fromName === fromEndpoint;
  },
};

export interface DrillOptions {
  readonly to: string;
  readonly kind: MoveKind;
  readonly allowDataLoss: boolean;
  /** Switch back to the Region that was the writer, after the first move settled. */
  readonly back: boolean;
  /** Writes per second. */
  readonly rate: number;
  /** How long to keep writing once the client writes again, in milliseconds. */
  readonly tailMs: number;
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly json: boolean;
  /** Where to write the timeline picture (SVG). */
  readonly svg?: string;
  readonly yesProduction: boolean;
  /** Leave the probe table for inspection. */
  readonly keepProbeTable?: boolean;
}

export interface DrillReport {
  readonly environment: string;
  readonly recordName: string;
  readonly probeTable: string;
  readonly writeIntervalMs: number;
  readonly acknowledged: number;
  readonly lost: number;
  readonly lostSequences: number[];
  readonly phases: PhaseResult[];
  readonly startedAt: number;
  readonly finishedAt: number;
}

/** Everything the environment and the options decide, before any AWS call or connection. */
export function refuseDrill(env: OperatedEnvironment, options: DrillOptions, url: string | undefined): string {
  refuseWithoutAws(env, options);
  if (env.config.deletionProtection && !options.yesProduction) {
    throw refuse(`${env.config.name} has deletionProtection on: it is treated as production, where a drill moves the real writer under real clients. Add --yes-production to drill it anyway`);
  }
  if (!url) throw refuse('DRILL_DATABASE_URL is not set: the probe writes through postgres://user:password@<writer DNS name>:5432/<database> (the password stays in the environment)');
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw refuse('DRILL_DATABASE_URL is not a URL');
  }
  if (host !== env.recordName) throw refuse(`DRILL_DATABASE_URL must name the writer DNS name ${env.recordName} as its host (it names ${host}): the drill measures what clients of that name see`);
  return url;
}

/** The moment `condition` first held, looking every `pollMs`; undefined past the deadline. */
const whenHolds = (deps: Deps, deadline: number, pollMs: number, condition: () => Promise<boolean> | boolean) =>
  waitFor(deps.clock, deadline, pollMs, async () => ((await condition()) ? deps.clock.now() : undefined));

export async function drill(env: OperatedEnvironment, deps: Deps, io: Io, options: DrillOptions, runtime: { env: Readonly<Record<string, string | undefined>>; network?: DrillNetwork }): Promise<DrillReport> {
  const url = refuseDrill(env, options, runtime.env.DRILL_DATABASE_URL);
  const network = runtime.network ?? dnsNetwork;
  const before = await observe(env, deps, [options.to, ...env.config.regions.filter((region) => region !== options.to)]);
  const home = before.writer?.region;
  if (!home) throw refuse(`global cluster ${env.globalClusterIdentifier} has no writer now; a drill needs one to start from`);
  const table = `keycloak_aurora_dr_drill_${new Date(deps.clock.now()).toISOString().replace(/\D/g, '').slice(0, 14)}`;
  const intervalMs = Math.round(1000 / options.rate);
  const probe = new WriteProbe(url, { endpoint: () => network.endpoint(url) }, table, intervalMs, () => deps.clock.now());
  const quiet: Io = { out: () => undefined, err: (line) => io.err(`  ${line}`) };

  const left = await probe.cleanUp().catch((error: Error) => {
    throw refuse(`the probe cannot reach the writer through ${env.recordName}: ${error.message}`);
  });
  if (left.length > 0) io.err(`dropped probe tables an earlier drill left: ${left.join(', ')}`);
  await probe.prepare();
  const startedAt = deps.clock.now();
  const phases: PhaseResult[] = [];
  try {
    probe.start();
    const acked = () => probe.events.filter((event) => event.ok).length;
    if (!(await whenHolds(deps, deps.clock.now() + options.timeoutMs, options.pollMs, () => acked() >= 3))) {
      throw new CliError(`the probe could not write through ${env.recordName} before the drill began`, ExitCode.stopped);
    }
    io.err(`probe writing to ${table} through ${env.recordName} every ${intervalMs} ms`);
    const moves: Array<{ kind: MoveKind; to: string; from: string }> = [{ kind: options.kind, to: options.to, from: home }];
    if (options.back) moves.push({ kind: 'switchover', to: home, from: options.to });
    for (const move of moves) {
      const marks = await movePhase(env, deps, quiet, io, network, move, options);
      // The client is back when a write after both moments is acknowledged; then a tail of steady writes.
      const back = Math.max(marks.writerMovedAt, marks.nameFollowedAt);
      await whenHolds(deps, deps.clock.now() + options.timeoutMs, options.pollMs, () => probe.events.some((event) => event.ok && event.at > back));
      await deps.clock.sleep(options.tailMs);
      phases.push(analysePhase(probe.events, marks, deps.clock.now()));
    }
  } finally {
    await probe.stop();
  }
  const stored = await probe.stored();
  const lost = lostWrites(probe.events, stored);
  if (!options.keepProbeTable) {
    await probe.cleanUp().catch((error: Error) => io.err(`could not drop ${table} (${error.message}); drop it by hand or let the next drill do it`));
  }
  const report: DrillReport = {
    environment: env.config.name,
    recordName: env.recordName,
    probeTable: table,
    writeIntervalMs: intervalMs,
    acknowledged: probe.events.filter((event) => event.ok).length,
    lost: lost.length,
    lostSequences: lost.slice(0, 50),
    phases,
    startedAt,
    finishedAt: deps.clock.now(),
  };
  printReport(report, io, options.json);
  if (options.svg) {
    writeFileSync(options.svg, timelineSvg(`Drill of ${env.config.name}: ${phases.map((phase) => `${phase.kind} ${phase.from} → ${phase.to}`).join(', then ')}`, probe.events, phases, startedAt, report.finishedAt));
    io.err(`timeline written to ${options.svg}`);
  }
  if (lost.length > 0 && phases.some((phase) => phase.kind === 'switchover')) {
    throw new CliError(`${lost.length} acknowledged write(s) were lost in a drill with a switchover, which must lose none`, ExitCode.stopped);
  }
  return report;
}

/** One move with the CLI's own switchover or failover, and the moment the name led to the new writer. */
async function movePhase(env: OperatedEnvironment, deps: Deps, quiet: Io, io: Io, network: DrillNetwork, move: { kind: MoveKind; to: string; from: string }, options: DrillOptions): Promise<PhaseMarks> {
  io.err(`${move.kind} from ${move.from} to ${move.to}`);
  const result = await moveWriter(env, deps, quiet, { kind: move.kind, to: move.to, allowDataLoss: move.kind === 'failover', timeoutMs: options.timeoutMs, pollMs: options.pollMs, json: false });
  const { startedAt } = result;
  const writerMovedAt = startedAt + result.writerMovedAfterMs;
  const writer = (await observe(env, deps, [move.to])).members.find((member) => member.region === move.to);
  if (!writer?.endpoint) throw new CliError(`the writer in ${move.to} reports no endpoint`, ExitCode.aws);
  const nameFollowedAt = await whenHolds(deps, deps.clock.now() + options.timeoutMs, options.pollMs, () => network.leadsTo(env.recordName, writer.endpoint!));
  if (nameFollowedAt === undefined) throw new CliError(`${env.recordName} did not lead to ${writer.endpoint} within the timeout`, ExitCode.timeout);
  return { kind: move.kind, from: move.from, to: move.to, startedAt, writerMovedAt, nameFollowedAt };
}

const seconds = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)} s`);

function printReport(report: DrillReport, io: Io, json: boolean): void {
  if (json) {
    io.out(JSON.stringify(report, null, 2));
    return;
  }
  io.out(`Drill of ${report.environment} through ${report.recordName}: a write every ${report.writeIntervalMs} ms`);
  for (const line of formatTable([
    ['MOVE', 'WRITE OUTAGE', 'FAILED WRITES', 'AURORA TOOK', 'NAME TOOK AFTER', 'CLIENT AFTER BOTH'],
    ...report.phases.map((phase) => [`${phase.kind} ${phase.from} -> ${phase.to}`, seconds(phase.writeOutageMs), String(phase.failedWrites), seconds(phase.auroraMs), seconds(phase.nameMs), seconds(phase.clientAfterBothMs)]),
  ])) io.out(line);
  io.out(`acknowledged writes: ${report.acknowledged}, lost: ${report.lost}${report.lost > 0 ? ` (${report.lostSequences.join(', ')})` : ''}`);
}
