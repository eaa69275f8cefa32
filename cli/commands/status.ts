import type { OperatedEnvironment } from '../environment';
import { Deps, DnsView, Observation, dnsView, observe } from '../observe';
import { Io, formatTable } from '../output';

export interface StatusReport {
  readonly globalCluster: string;
  readonly status?: string;
  readonly engineVersion?: string;
  readonly globalWriterEndpoint?: string;
  readonly operationInProgress: Observation['inFlight'] | null;
  readonly members: Observation['members'];
  readonly dns: DnsView;
}

/** The global cluster, each member, any switchover or failover under way, and whether the writer's name follows. */
export async function status(env: OperatedEnvironment, deps: Deps, io: Io, options: { json: boolean }): Promise<StatusReport> {
  const observation = await observe(env, deps);
  const report: StatusReport = {
    globalCluster: env.globalClusterIdentifier,
    status: observation.globalCluster.Status,
    engineVersion: observation.globalCluster.EngineVersion,
    globalWriterEndpoint: observation.globalCluster.Endpoint,
    operationInProgress: observation.inFlight ?? null,
    members: observation.members,
    dns: await dnsView(env, deps, observation),
  };
  if (options.json) {
    io.out(JSON.stringify(report, null, 2));
    return report;
  }
  io.out(`Global cluster ${report.globalCluster}: ${report.status} (aurora-postgresql ${report.engineVersion})`);
  const inFlight = report.operationInProgress;
  io.out(
    inFlight
      ? `Operation in progress: ${inFlight.dataLossAllowed ? 'failover' : 'switchover'} ${inFlight.status}, from ${inFlight.from} to ${inFlight.to}`
      : 'Operation in progress: none',
  );
  io.out('');
  for (const line of formatTable([
    ['REGION', 'ROLE', 'STATUS', 'REPLICATION', 'CLUSTER ARN'],
    ...report.members.map((member) => [member.region, member.isWriter ? 'writer' : 'reader', member.status, member.synchronization ?? '-', member.arn]),
  ])) io.out(line);
  io.out('');
  const { dns } = report;
  io.out(`Writer DNS ${dns.name} -> ${dns.target ?? '(no record)'}`);
  io.out(dns.inSync ? `  in sync with the writer (${env.config.writerDns.target})` : `  DRIFT: the writer is ${dns.expected ?? '(no writer)'}`);
  return report;
}
