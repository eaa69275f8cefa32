import { DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { DescribeDBEngineVersionsCommand } from '@aws-sdk/client-rds';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { regionPlans } from '../../environments';
import { cidrsOverlap } from '../../modules/core';
import { callAws } from '../aws';
import type { OperatedEnvironment } from '../environment';
import { refuse } from '../errors';
import { Deps, describeGlobalCluster } from '../observe';
import { Io, formatTable } from '../output';

export interface Check {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * Checks before a first deploy: whose credentials these are, that every Region offers the engine
 * version, that the global cluster id is free, and that every site VPC exists with a CIDR that
 * collides with no Aurora VPC (existing ones as AWS reports them, planned ones otherwise).
 */
export async function preflight(env: OperatedEnvironment, deps: Deps, io: Io, options: { json: boolean }): Promise<Check[]> {
  const { config } = env;
  const [primary] = config.regions;
  const identity = await callAws('GetCallerIdentity', () => deps.aws.sts(primary).send(new GetCallerIdentityCommand({})), deps.clock);
  const checks: Check[] = [{ check: 'credentials', ok: true, detail: `account ${identity.Account} as ${identity.Arn}` }];

  for (const region of config.regions) {
    const { DBEngineVersions } = await callAws(`DescribeDBEngineVersions in ${region}`, () =>
      deps.aws.rds(region).send(new DescribeDBEngineVersionsCommand({ Engine: 'aurora-postgresql', EngineVersion: config.engineVersion })), deps.clock);
    const offered = (DBEngineVersions ?? []).some((version) => version.EngineVersion === config.engineVersion);
    checks.push({
      check: `region ${region}`,
      ok: offered,
      detail: offered ? `reachable; offers aurora-postgresql ${config.engineVersion}` : `does not offer aurora-postgresql ${config.engineVersion}`,
    });
  }

  const existing = await describeGlobalCluster(env, deps);
  checks.push({
    check: 'global cluster id',
    ok: !existing,
    detail: existing
      ? `global cluster ${config.globalClusterIdentifier} already exists (${existing.Status}, ${existing.GlobalClusterMembers?.length ?? 0} members)`
      : `${config.globalClusterIdentifier} is free`,
  });

  const auroraCidrs = await Promise.all(
    regionPlans(config).map(async (plan) => {
      const { Vpcs } = await callAws(`DescribeVpcs in ${plan.region}`, () =>
        deps.aws.ec2(plan.region).send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: [plan.clusterIdentifier] }] })), deps.clock);
      const actual = (Vpcs ?? []).flatMap((vpc) => (vpc.CidrBlockAssociationSet ?? []).map((association) => association.CidrBlock ?? ''));
      return { region: plan.region, cidrs: actual.length > 0 ? actual : [plan.vpcCidr], existing: actual.length > 0 };
    }),
  );
  for (const site of config.sites) {
    const { Vpcs } = await callAws(`DescribeVpcs in ${site.region}`, () =>
      deps.aws.ec2(site.region).send(new DescribeVpcsCommand({ VpcIds: [site.vpcId] })), deps.clock).catch((error) => {
      if (/InvalidVpcID\.NotFound/.test((error as Error).message)) return { Vpcs: [] };
      throw error;
    });
    const [vpc] = Vpcs ?? [];
    if (!vpc) {
      checks.push({ check: `site ${site.name}`, ok: false, detail: `VPC ${site.vpcId} does not exist in ${site.region}` });
      continue;
    }
    const siteCidrs = (vpc.CidrBlockAssociationSet ?? []).map((association) => association.CidrBlock ?? '');
    const collisions = auroraCidrs.flatMap(({ region, cidrs, existing: isExisting }) =>
      siteCidrs.flatMap((siteCidr) =>
        cidrs.filter((cidr) => cidrsOverlap(siteCidr, cidr)).map((cidr) => `${siteCidr} overlaps the ${isExisting ? 'existing' : 'planned'} Aurora VPC ${cidr} in ${region}`),
      ),
    );
    const mismatch = siteCidrs.includes(site.cidr) ? [] : [`the environment says ${site.cidr}, AWS says ${siteCidrs.join(', ')}`];
    const problems = [...mismatch, ...collisions];
    checks.push({
      check: `site ${site.name}`,
      ok: problems.length === 0,
      detail: problems.length === 0 ? `${site.vpcId} (${siteCidrs.join(', ')}) collides with no Aurora VPC` : problems.join('; '),
    });
  }

  if (options.json) io.out(JSON.stringify(checks, null, 2));
  else for (const line of formatTable([['CHECK', 'RESULT', 'DETAIL'], ...checks.map((c) => [c.check, c.ok ? 'ok' : 'FAILED', c.detail])])) io.out(line);
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0) throw refuse(`preflight failed: ${failed.map((c) => c.detail).join('; ')}`);
  return checks;
}
