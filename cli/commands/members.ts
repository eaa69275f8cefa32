import type { OperatedEnvironment } from '../environment';
import { Deps, describeGlobalCluster } from '../observe';
import { refuse } from '../errors';
import type { Io } from '../output';

/** The member cluster ARNs, as `aws rds describe-global-clusters --query …DBClusterArn` lists them. */
export async function members(env: OperatedEnvironment, deps: Deps, io: Io, options: { json: boolean }): Promise<void> {
  const globalCluster = await describeGlobalCluster(env, deps);
  if (!globalCluster) throw refuse(`global cluster ${env.globalClusterIdentifier} does not exist`);
  const arns = (globalCluster.GlobalClusterMembers ?? []).map((member) => member.DBClusterArn ?? '');
  if (options.json) io.out(JSON.stringify(arns, null, 2));
  else arns.forEach((arn) => io.out(arn));
}
