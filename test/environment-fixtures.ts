import type { EnvironmentInput } from '../environments';

export const siteA = { name: 'site-a', region: 'eu-west-1', vpcId: 'vpc-0a0a0a0a0a0a00001', cidr: '10.1.0.0/16', routeTableIds: ['rtb-0a0a0a0a0a0a00001'] };
export const siteB = { name: 'site-b', region: 'eu-central-1', vpcId: 'vpc-0b0b0b0b0b0b00001', cidr: '10.2.0.0/16', routeTableIds: ['rtb-0b0b0b0b0b0b00001'] };

/** A valid multi-site environment over eu-west-1 and eu-central-1; tests change one thing at a time. */
export function environmentInput(name: string, change: Partial<EnvironmentInput> = {}): EnvironmentInput {
  return {
    name,
    layout: 'multi-site',
    globalClusterIdentifier: `keycloak-${name}`,
    regions: ['eu-west-1', 'eu-central-1'],
    engineVersion: '16.6',
    sites: [siteA, siteB],
    writerDns: { domain: 'example.internal' },
    ...change,
  };
}
