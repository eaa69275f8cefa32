/** What the CLI reads about a global database: the global cluster, its members, and the writer's DNS record. */
import { DescribeDBClustersCommand, GlobalCluster } from '@aws-sdk/client-rds';
import { ListHostedZonesByNameCommand } from '@aws-sdk/client-route-53';
import { describeGlobalCluster as describeGlobalClusterIn, readRecord } from '../functions/writer-dns/aws';
import { normalizeDnsName } from '../modules/core';
import { regionOfArn } from '../functions/writer-dns/decide';
import { AwsClients, Clock, callAws } from './aws';
import { CliError, ExitCode, refuse } from './errors';
import type { OperatedEnvironment } from './environment';

export interface Member {
  readonly region: string;
  readonly arn: string;
  readonly isWriter: boolean;
  /** Replication state of a reader (`connected`, `pending-resync`). */
  readonly synchronization?: string;
  /** The cluster's status, or why it could not be read. */
  readonly status: string;
  /** The cluster's writer endpoint. */
  readonly endpoint?: string;
}

export interface InFlight {
  readonly status: string;
  readonly from?: string;
  readonly to?: string;
  readonly dataLossAllowed: boolean;
}

export interface Observation {
  readonly globalCluster: GlobalCluster;
  readonly members: Member[];
  readonly writer?: Member;
  readonly inFlight?: InFlight;
}

export interface Deps {
  readonly aws: AwsClients;
  readonly clock: Clock;
}

/**
 * The global cluster as one of its Regions reports it; the Regions are asked in order, so a Region
 * that is down does not hide the others' view. Undefined when it does not exist.
 */
export async function describeGlobalCluster(env: OperatedEnvironment, deps: Deps, regions: readonly string[] = env.config.regions): Promise<GlobalCluster | undefined> {
  let lastError: unknown;
  for (const region of regions) {
    try {
      return await callAws(`DescribeGlobalClusters in ${region}`, () =>
        describeGlobalClusterIn(deps.aws.rds(region), env.globalClusterIdentifier), deps.clock);
    } catch (error) {
      if (error instanceof CliError && error.exitCode === ExitCode.credentials) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

/** The global cluster with every member's Region, role and status; refuses when it does not exist. */
export async function observe(env: OperatedEnvironment, deps: Deps, regions?: readonly string[]): Promise<Observation> {
  const globalCluster = await describeGlobalCluster(env, deps, regions);
  if (!globalCluster) throw refuse(`global cluster ${env.globalClusterIdentifier} does not exist`);
  const members = await Promise.all(
    (globalCluster.GlobalClusterMembers ?? []).map(async (member): Promise<Member> => {
      const arn = member.DBClusterArn ?? '';
      const region = regionOfArn(arn);
      const base = { region, arn, isWriter: Boolean(member.IsWriter), synchronization: member.SynchronizationStatus };
      try {
        const { DBClusters } = await callAws(`DescribeDBClusters in ${region}`, () =>
          deps.aws.rds(region).send(new DescribeDBClustersCommand({ DBClusterIdentifier: arn })), deps.clock, 2);
        const [cluster] = DBClusters ?? [];
        return { ...base, status: cluster?.Status ?? 'unknown', endpoint: cluster?.Endpoint };
      } catch (error) {
        if (error instanceof CliError && error.exitCode === ExitCode.credentials) throw error;
        return { ...base, status: `unreachable (${(error as Error).message})` };
      }
    }),
  );
  const state = globalCluster.FailoverState;
  return {
    globalCluster,
    members,
    writer: members.find((member) => member.isWriter),
    inFlight: state?.Status
      ? { status: state.Status, from: state.FromDbClusterArn, to: state.ToDbClusterArn, dataLossAllowed: Boolean(state.IsDataLossAllowed) }
      : undefined,
  };
}

/** The hosted zone holding the writer record: the environment's own, or found by name. */
export async function writerZoneId(env: OperatedEnvironment, deps: Deps): Promise<string> {
  if (env.zone.id) return env.zone.id;
  const { HostedZones } = await callAws('ListHostedZonesByName', () =>
    deps.aws.route53().send(new ListHostedZonesByNameCommand({ DNSName: env.zone.name, MaxItems: 10 })), deps.clock);
  const zone = (HostedZones ?? []).find((candidate) => candidate.Name === `${env.zone.name}.` && Boolean(candidate.Config?.PrivateZone) === env.zone.private);
  if (!zone?.Id) throw refuse(`no ${env.zone.private ? 'private' : 'public'} hosted zone ${env.zone.name}; is the database stack deployed?`);
  return zone.Id.replace(/^\/hostedzone\//, '');
}

/** What the writer record says now, and what it should say for the current writer. */
export interface DnsView {
  readonly name: string;
  readonly zoneId: string;
  readonly target?: string;
  readonly expected?: string;
  readonly inSync: boolean;
}

export async function dnsView(env: OperatedEnvironment, deps: Deps, observation: Observation, zoneId?: string): Promise<DnsView> {
  const id = zoneId ?? (await writerZoneId(env, deps));
  const record = await callAws('ListResourceRecordSets', () => readRecord(deps.aws.route53(), id, env.recordName), deps.clock);
  const expected = env.config.writerDns.target === 'global-writer' ? observation.globalCluster.Endpoint : observation.writer?.endpoint;
  const target = record && normalizeDnsName(record.target);
  const wanted = expected && normalizeDnsName(expected);
  return { name: env.recordName, zoneId: id, target, expected: wanted, inSync: Boolean(wanted) && target === wanted };
}
