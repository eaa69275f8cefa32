import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { AuroraNetwork, AuroraNetworkProps } from '../modules/aurora-network';
import { StackJson, referencedName, resourcesOf, synthesize } from './synth';

function synthNetwork(props: Partial<AuroraNetworkProps> = {}): { network: AuroraNetwork; json: StackJson } {
  const stack = new TerraformStack(Testing.app(), 'test');
  const provider = new AwsProvider(stack, 'aws', { region: 'eu-west-1', alias: 'eu-west-1' });
  const network = new AuroraNetwork(stack, 'network', {
    provider,
    name: 'keycloak-eu-west-1',
    cidrBlock: '10.100.0.0/20',
    tags: { Team: 'identity' },
    ...props,
  });
  return { network, json: synthesize(stack) };
}

describe('AuroraNetwork', () => {
  describe('GIVEN the default three availability zones', () => {
    const { json } = synthNetwork();
    const [vpc] = resourcesOf(json, 'aws_vpc');
    const subnets = resourcesOf(json, 'aws_subnet');

    test('THEN the VPC has the given CIDR and resolves DNS for peered clients', () => {
      expect(vpc.config).toMatchObject({
        cidr_block: '10.100.0.0/20',
        enable_dns_support: true,
        enable_dns_hostnames: true,
        provider: 'aws.eu-west-1',
        tags: { Name: 'keycloak-eu-west-1', Team: 'identity' },
      });
    });

    test('THEN there is one private subnet per zone, with equal non-overlapping blocks of the VPC', () => {
      expect(subnets.map(({ config }) => config.cidr_block)).toEqual(['10.100.0.0/22', '10.100.4.0/22', '10.100.8.0/22']);
      const zonesData = Object.keys(json.data!.aws_availability_zones)[0];
      expect(subnets.map(({ config }) => config.availability_zone)).toEqual([0, 1, 2].map(
        (index) => `\${element(data.aws_availability_zones.${zonesData}.names, ${index})}`,
      ));
      for (const { config } of subnets) {
        expect(config.map_public_ip_on_launch).toBe(false);
        expect(referencedName(config.vpc_id, 'aws_vpc')).toBe(vpc.name);
      }
    });

    test('THEN the zones exclude opt-in zones, and a Region with too few zones fails the plan', () => {
      const [zones] = Object.values(json.data!.aws_availability_zones);
      expect(zones).toMatchObject({ state: 'available', filter: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }] });
      expect(zones.lifecycle.postcondition).toEqual([
        { condition: '${length(self.names) >= 3}', error_message: expect.stringMatching(/needs 3 availability zones/) },
      ]);
    });

    test('THEN every subnet uses the one route table that peering will add routes to', () => {
      const [table] = resourcesOf(json, 'aws_route_table');
      const associations = resourcesOf(json, 'aws_route_table_association');
      expect(associations).toHaveLength(3);
      expect(new Set(associations.map(({ config }) => referencedName(config.route_table_id, 'aws_route_table')))).toEqual(new Set([table.name]));
      expect(associations.map(({ config }) => referencedName(config.subnet_id, 'aws_subnet')).sort()).toEqual(subnets.map(({ name }) => name).sort());
      expect(table.config).not.toHaveProperty('route');
    });

    test('THEN the DB subnet group spans every subnet', () => {
      const [group] = resourcesOf(json, 'aws_db_subnet_group');
      expect(group.config.name).toBe('keycloak-eu-west-1');
      expect(group.config.subnet_ids.map((id: string) => referencedName(id, 'aws_subnet')).sort()).toEqual(subnets.map(({ name }) => name).sort());
    });

    test('THEN the security group admits nothing of its own', () => {
      const [group] = resourcesOf(json, 'aws_security_group');
      expect(group.config.name).toBe('keycloak-eu-west-1-aurora');
      expect(group.config).not.toHaveProperty('ingress');
      expect(group.config).not.toHaveProperty('egress');
      expect(resourcesOf(json, 'aws_vpc_security_group_ingress_rule')).toEqual([]);
    });
  });

  describe('WHEN five zones are asked for', () => {
    test('THEN the VPC is cut in eight and the first five blocks are used', () => {
      const { json, network } = synthNetwork({ availabilityZoneCount: 5 });
      expect(resourcesOf(json, 'aws_subnet').map(({ config }) => config.cidr_block)).toEqual([
        '10.100.0.0/23', '10.100.2.0/23', '10.100.4.0/23', '10.100.6.0/23', '10.100.8.0/23',
      ]);
      expect(network.availabilityZones).toHaveLength(5);
    });
  });

  describe('WHEN props break the rules', () => {
    test.each<[string, Partial<AuroraNetworkProps>, RegExp]>([
      ['a CIDR with host bits', { cidrBlock: '10.100.0.1/20' }, /cidrBlock 10.100.0.1\/20 has host bits set/],
      ['a VPC larger than /16', { cidrBlock: '10.0.0.0/12' }, /cidrBlock must be \/16 to \/24, is \/12/],
      ['two zones', { availabilityZoneCount: 2 }, /availabilityZoneCount must be 3 to 6, is 2/],
    ])('THEN %s is refused', (_rule, props, expected) => {
      expect(() => synthNetwork(props)).toThrow(expected);
    });
  });
});
