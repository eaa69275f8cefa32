import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsRdsCluster } from '@cdktf/provider-aws/lib/data-aws-rds-cluster';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version';
import { AssetType, Fn, TerraformAsset, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { AuroraGlobalDatabase } from '../modules/aurora-global-database';
import { AuroraNetwork } from '../modules/aurora-network';
import { databaseStackName, projectTags, slotIdentifiers, writerRecordName, writerZoneName } from '../modules/core';
import { addStateBackend } from '../modules/state-backend';
import { WriterDnsRecord, WriterZone } from '../modules/writer-dns-record';
import { WriterFailoverHandler } from '../modules/writer-failover-handler';
import type { FunctionBundle } from './function-bundle';
import { EnvironmentConfig, greenRegionOf, liveDatabase, regionPlans } from '../environments/schema';


/** Tags every resource of an environment carries, so its owner is plain from the console. */
export function environmentTags(env: EnvironmentConfig): Record<string, string> {
  return { ...env.tags, ...projectTags(env.name, env.globalClusterIdentifier) };
}

export interface DatabaseStackProps {
  /** The bundled writer-DNS handler. */
  readonly writerDnsBundle: FunctionBundle;
}

/** Where the live database takes connections: what the sites put in Keycloak's JDBC URL after the writer's name. */
export interface DatabaseEndpoints {
  readonly globalWriterEndpoint: string;
  /** Each Region's member cluster endpoint, in the order of the environment's regions. */
  readonly regionalWriterEndpoints: ReadonlyArray<{ readonly region: string; readonly endpoint: string }>;
}

/**
 * The database of one environment: a provider, an Aurora network and a member cluster in every
 * Region of the global cluster, the global cluster itself, the writer's DNS name, and a failover
 * handler in every Region that keeps that name on the writer.
 */
export class DatabaseStack extends TerraformStack {
  public readonly database: AuroraGlobalDatabase;
  public readonly networks: Record<string, AuroraNetwork>;
  public readonly writerDns: WriterDnsRecord;
  /** Database credentials, replicated to every Region of the global cluster. */
  public readonly credentialsSecret: SecretsmanagerSecret;
  /** Blue's endpoints; none once blue's clusters are retired. */
  public readonly blueEndpoints?: DatabaseEndpoints;

  private readonly writerDnsBundle: FunctionBundle;

  constructor(scope: Construct, env: EnvironmentConfig, props: DatabaseStackProps) {
    const name = databaseStackName(env.name);
    super(scope, name);
    this.writerDnsBundle = props.writerDnsBundle;
    addStateBackend(this, env.stateBackend);

    const masterPassword = new TerraformVariable(this, 'master_password', {
      type: 'string',
      sensitive: true,
      nullable: false,
      description: `Master password of ${env.globalClusterIdentifier}; write-only, never kept in state. Set TF_VAR_master_password.`,
      validation: [
        {
          condition:
            '${length(var.master_password) >= 8 && length(var.master_password) <= 41 && can(regex("^[!-~]+$", var.master_password)) && !can(regex("[/\\"@]", var.master_password))}',
          errorMessage: 'master_password must be 8 to 41 printable ASCII characters without spaces, /, " or @ (the RDS rule for Aurora).',
        },
      ],
    });
    // Ephemeral (Terraform 1.10+): the value is kept out of plan files too. cdktf 0.21 has no typed field.
    masterPassword.addOverride('ephemeral', true);
    const masterPasswordVersion = new TerraformVariable(this, 'master_password_version', {
      type: 'number',
      default: 1,
      description: 'Increase to write master_password to the cluster again (rotation).',
    });

    const tags = environmentTags(env);
    const plans = regionPlans(env);
    this.networks = {};
    const providers: Record<string, AwsProvider> = {};
    const placements = plans.map((plan) => {
      const provider = new AwsProvider(this, `aws-${plan.region}`, {
        region: plan.region,
        alias: plan.region,
        defaultTags: [{ tags }],
      });
      providers[plan.region] = provider;
      const network = new AuroraNetwork(this, `network-${plan.region}`, {
        provider,
        name: plan.clusterIdentifier,
        cidrBlock: plan.vpcCidr,
        availabilityZoneCount: env.availabilityZoneCount,
      });
      this.networks[plan.region] = network;
      return {
        region: plan.region,
        provider,
        dbSubnetGroupName: network.dbSubnetGroupName,
        securityGroupIds: [network.securityGroup.id],
        availabilityZones: network.availabilityZones,
      };
    });

    this.database = new AuroraGlobalDatabase(this, 'aurora', {
      globalClusterIdentifier: env.globalClusterIdentifier,
      regions: placements,
      engineVersion: env.engineVersion,
      instanceClass: env.instanceClass,
      instancesPerRegion: env.instancesPerRegion,
      databaseName: env.databaseName,
      masterUsername: env.masterUsername,
      masterPassword: masterPassword.stringValue,
      masterPasswordVersion: masterPasswordVersion.numberValue,
      // Unprotected first, in an apply of its own: RDS refuses to delete a protected cluster.
      deletionProtection: env.deletionProtection && env.blueGreen.blueClusters === 'kept',
      backupRetentionDays: env.backupRetentionDays,
      skipFinalSnapshot: env.skipFinalSnapshot,
      performanceInsightsRetentionDays: env.performanceInsightsRetentionDays,
      logicalReplicationSubscribers: env.blueGreen.enabled ? env.blueGreen.subscribers : 0,
      clusterParameters: env.clusterParameters,
      retired: env.blueGreen.blueClusters === 'retired',
      cloneOf: env.blueGreen.blueSource === 'green'
        ? {
            clusterIdentifier: slotIdentifiers(env.globalClusterIdentifier, 'green').member(greenRegionOf(env)),
            region: greenRegionOf(env),
            engineVersion: env.blueGreen.greenEngineVersion!,
            global: env.blueGreen.blueGlobal,
          }
        : undefined,
    });
    const upgradeGroups = this.database.cloneUpgradeParameterGroups;
    if (upgradeGroups) {
      new TerraformOutput(this, 'blue_upgrade_parameter_groups', {
        value: { cluster: upgradeGroups.clusterParameterGroup.name, instance: upgradeGroups.instanceParameterGroup.name, engineVersion: env.engineVersion },
        description: 'The groups of the new family for the in-place major upgrade of blue\'s clone of green (see the README).',
      });
    }
    if (this.database.globalWriterEndpoint) {
      this.blueEndpoints = {
        globalWriterEndpoint: this.database.globalWriterEndpoint,
        regionalWriterEndpoints: this.database.regionalClusters.map(({ region, cluster }) => ({ region, endpoint: cluster.endpoint })),
      };
    }

    const live = liveDatabase(env);
    this.writerDns = this.addWriterDns(env, providers, live);

    // The secret value is written write-only from the ephemeral variable: never in state or output.
    const [primaryRegion, ...replicaRegions] = env.regions;
    this.credentialsSecret = new SecretsmanagerSecret(this, 'credentials', {
      provider: providers[primaryRegion],
      name: `${env.globalClusterIdentifier}/database-credentials`,
      description: `Master user of ${env.globalClusterIdentifier} for Keycloak; replicated so every Region can read it locally`,
      replica: replicaRegions.map((region) => ({ region })),
    });
    new SecretsmanagerSecretVersion(this, 'credentials-value', {
      provider: providers[primaryRegion],
      secretId: this.credentialsSecret.id,
      secretStringWo: Fn.jsonencode({ username: env.masterUsername, password: masterPassword.stringValue }),
      secretStringWoVersion: masterPasswordVersion.numberValue,
    });

    new TerraformOutput(this, 'global_cluster_identifier', { value: env.globalClusterIdentifier });
    new TerraformOutput(this, 'live_global_cluster_identifier', {
      value: live.globalClusterIdentifier,
      description: 'The global cluster that takes the writes (blue/green: blue\'s or green\'s), which the writer-DNS handlers follow.',
    });
    new TerraformOutput(this, 'writer_dns_name', {
      value: this.writerDns.recordName,
      description: 'The name Keycloak connects to; it follows the writer through switchovers and failovers.',
    });
    new TerraformOutput(this, 'writer_dns_zone_id', { value: this.writerDns.zoneId });
    if (this.database.globalWriterEndpoint) {
      new TerraformOutput(this, 'global_writer_endpoint', {
        value: this.database.globalWriterEndpoint,
        description: 'Aurora global writer endpoint; follows switchovers and failovers inside the global cluster.',
      });
    }
    new TerraformOutput(this, 'regional_clusters', {
      description: 'Per Region: blue\'s member cluster (until it is retired) and the network.',
      value: Object.fromEntries(
        env.regions.map((region) => {
          const network = this.networks[region];
          const cluster = this.database.regionalClusters.find((member) => member.region === region)?.cluster;
          return [
            region,
            {
              ...(cluster && {
                cluster_identifier: cluster.clusterIdentifier,
                cluster_arn: cluster.arn,
                writer_endpoint: cluster.endpoint,
                reader_endpoint: cluster.readerEndpoint,
              }),
              vpc_id: network.vpc.id,
              vpc_cidr: network.cidrBlock,
              route_table_id: network.routeTable.id,
              security_group_id: network.securityGroup.id,
            },
          ];
        }),
      ),
    });
  }

  /**
   * The writer's DNS name, and in every Region a handler that keeps it on the live database's writer:
   * blue's, or once green is live (blueGreen.live), green's, named from its identifiers (the green
   * stack depends on this one, so nothing of it can be referenced here).
   */
  private addWriterDns(env: EnvironmentConfig, providers: Record<string, AwsProvider>, live: ReturnType<typeof liveDatabase>): WriterDnsRecord {
    const { writerDns } = env;
    const primaryRegion = env.regions[0];
    const blueIsLive = env.blueGreen.live === 'blue';
    const bluePrimary = this.database.regionalClusters.find((member) => member.isInitialPrimary);
    const arns = blueIsLive ? undefined : {
      partition: new DataAwsPartition(this, 'partition', { provider: providers[primaryRegion] }).partition,
      account: new DataAwsCallerIdentity(this, 'account', { provider: providers[primaryRegion] }).accountId,
    };
    const zoneName = writerDns.zone.type === 'existing' ? writerDns.zone.zoneName : writerZoneName(writerDns.domain);
    const zone: WriterZone =
      writerDns.zone.type === 'existing'
        ? { type: 'existing', zoneId: writerDns.zone.zoneId, zoneName }
        : writerDns.zone.type === 'public'
          ? { type: 'public', zoneName }
          : {
              type: 'private',
              zoneName,
              vpcs: Object.entries(this.networks).map(([region, network]) => ({ vpcId: network.vpc.id, region })),
            };
    const record = new WriterDnsRecord(this, 'writer-dns', {
      provider: providers[primaryRegion],
      recordName: writerRecordName(env.globalClusterIdentifier, writerDns.domain),
      zone,
      // Set once at creation; the handlers own the value from then on.
      initialTarget: blueIsLive
        ? (writerDns.target === 'global-writer' ? this.database.globalWriterEndpoint! : bluePrimary!.cluster.endpoint)
        : new DataAwsRdsCluster(this, 'live-primary', { provider: providers[greenRegionOf(env)], clusterIdentifier: live.member(greenRegionOf(env)) }).endpoint,
      ttlSeconds: writerDns.ttlSeconds,
    });

    const code = new TerraformAsset(this, 'writer-dns-code', {
      path: this.writerDnsBundle.zipFile,
      type: AssetType.FILE,
      assetHash: this.writerDnsBundle.sha256,
    });
    const memberClusterIdentifiers = env.regions.map((region) => live.member(region));
    for (const region of env.regions) {
      const blueMember = this.database.regionalClusters.find((member) => member.region === region);
      new WriterFailoverHandler(this, `writer-dns-handler-${region}`, {
        provider: providers[region],
        region,
        code,
        globalClusterIdentifier: live.globalClusterIdentifier,
        globalClusterArn: arns ? `arn:${arns.partition}:rds::${arns.account}:global-cluster:${live.globalClusterIdentifier}` : this.database.globalCluster!.arn,
        ownCluster: { identifier: live.member(region), arn: arns ? `arn:${arns.partition}:rds:${region}:${arns.account}:cluster:${live.member(region)}` : blueMember!.cluster.arn },
        memberClusterIdentifiers,
        hostedZoneId: record.zoneId,
        hostedZoneArn: record.zoneArn,
        recordName: record.recordName,
        recordTtlSeconds: record.ttlSeconds,
        target: writerDns.target,
        reconcileEveryMinutes: writerDns.reconcileEveryMinutes,
        timeoutSeconds: writerDns.handlerTimeoutSeconds,
        logRetentionDays: writerDns.logRetentionDays,
        alarmEmails: writerDns.alarmEmails,
      });
    }
    return record;
  }
}

export { databaseStackName };
