import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../environments/schema';
import { AuroraClone } from '../modules/aurora-clone';
import { greenClusterIdentifier, greenStackName, regionalClusterIdentifier } from '../modules/core';
import { addStateBackend } from '../modules/state-backend';
import { DatabaseStack, environmentTags } from './database-stack';


/**
 * The green of a blue/green upgrade: a copy-on-write clone of blue's cluster in one Region, on
 * blue's network, key and parameter groups. Its own stack, so it comes and goes with an upgrade
 * without touching the database stack.
 */
export class GreenStack extends TerraformStack {
  public readonly clone: AuroraClone;

  constructor(scope: Construct, env: EnvironmentConfig, database: DatabaseStack) {
    super(scope, greenStackName(env.name));
    addStateBackend(this, env.stateBackend);
    this.addDependency(database);
    const region = env.blueGreen.greenRegion ?? env.regions[0];
    const provider = new AwsProvider(this, `aws-${region}`, { region, alias: region, defaultTags: [{ tags: { ...environmentTags(env), BlueGreen: 'green' } }] });
    const blue = database.database.regionalClusters.find((member) => member.region === region)!;
    const network = database.networks[region];

    const blueIdentifier = regionalClusterIdentifier(env.globalClusterIdentifier, region);
    this.clone = new AuroraClone(this, 'green', {
      provider,
      sourceClusterIdentifier: blueIdentifier,
      cloneIdentifier: greenClusterIdentifier(blueIdentifier),
      dbSubnetGroupName: network.dbSubnetGroupName,
      securityGroupIds: [network.securityGroup.id],
      kmsKeyArn: blue.kmsKey.arn,
      clusterParameterGroupName: blue.clusterParameterGroup.name,
      instanceParameterGroupName: blue.instanceParameterGroup.name,
      instanceClass: env.instanceClass,
      instances: env.blueGreen.greenInstances,
      deletionProtection: env.deletionProtection,
      backupRetentionDays: env.backupRetentionDays,
      performanceInsightsRetentionDays: env.performanceInsightsRetentionDays,
    });
    new TerraformOutput(this, 'green_writer_endpoint', {
      value: this.clone.cluster.endpoint,
      description: 'Writer endpoint of green: the host of BLUEGREEN_GREEN_URL, and where traffic goes at cut-over.',
    });
    new TerraformOutput(this, 'green_cluster_identifier', { value: this.clone.cluster.clusterIdentifier });
  }
}

export { greenStackName };
