// The team's own environment, checked by the same schema as keycloak-aurora-dr's own: a mistake
// fails synth with the field and the rule, before anything is built.
/** @type {import('keycloak-aurora-dr/environments').EnvironmentInput[]} */
const environments = [
  {
    name: 'payments',
    layout: 'single-site',
    globalClusterIdentifier: 'payments-identity',
    regions: ['eu-north-1', 'eu-west-3'],
    engineVersion: '16.6',
    deletionProtection: false,
    skipFinalSnapshot: true,
    sites: [
      {
        name: 'eks-payments',
        region: 'eu-north-1',
        vpcId: 'vpc-0a1b2c3d4e5f60001',
        cidr: '10.40.0.0/16',
        routeTableIds: ['rtb-0a1b2c3d4e5f60001'],
      },
    ],
    auroraCidrPool: '10.90.0.0/16',
    writerDns: { domain: 'payments.example.internal' },
    stateBackend: { type: 'local' },
  },
];

module.exports = { environments };
