import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { AuroraGlobalDatabase } from '../modules/aurora-global-database';
import { AuroraNetwork } from '../modules/aurora-network';
import { addStateBackend } from '../modules/state-backend';
import { EnvironmentConfig, regionPlans } from '../environments/schema';

/** Name of an environment's database stack. */
export function databaseStackName(environment: string): string {
  return `${environment}-database`;
}

/** Tags every resource of an environment carries, so its owner is plain from the console. */
export function environmentTags(env: EnvironmentConfig): Record<string, string> {
  return {
    ...env.tags,
    Project: 'keycloak-aurora-dr',
    Environment: env.name,
    GlobalCluster: env.globalClusterIdentifier,
    ManagedBy: 'cdktf',
  };
}

/**
 * The database of one environment: a provider, an Aurora network and a member cluster in every
 * Region of the global cluster, and the global cluster itself.
 */
export class DatabaseStack extends TerraformStack {
  public readonly database: AuroraGlobalDatabase;
  public readonly networks: Record<string, AuroraNetwork>;

  constructor(scope: Construct, env: EnvironmentConfig) {
    const name = databaseStackName(env.name);
    super(scope, name);
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
    const placements = plans.map((plan) => {
      const provider = new AwsProvider(this, `aws-${plan.region}`, {
        region: plan.region,
        alias: plan.region,
        defaultTags: [{ tags }],
      });
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
      deletionProtection: env.deletionProtection,
      backupRetentionDays: env.backupRetentionDays,
      skipFinalSnapshot: env.skipFinalSnapshot,
      performanceInsightsRetentionDays: env.performanceInsightsRetentionDays,
      logicalReplication: env.logicalReplication,
      clusterParameters: env.clusterParameters,
    });

    new TerraformOutput(this, 'global_cluster_identifier', { value: env.globalClusterIdentifier });
    new TerraformOutput(this, 'global_writer_endpoint', {
      value: this.database.globalWriterEndpoint,
      description: 'Aurora global writer endpoint; follows switchovers and failovers inside the global cluster.',
    });
    new TerraformOutput(this, 'regional_clusters', {
      description: 'Per Region: the member cluster and its network.',
      value: Object.fromEntries(
        this.database.regionalClusters.map(({ region, cluster }) => {
          const network = this.networks[region];
          return [
            region,
            {
              cluster_identifier: cluster.clusterIdentifier,
              cluster_arn: cluster.arn,
              writer_endpoint: cluster.endpoint,
              reader_endpoint: cluster.readerEndpoint,
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
}
