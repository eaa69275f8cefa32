import {
  closest,
  dnsNameProblem,
  editDistance,
  hostnameProblem,
  masterUsernameProblem,
  tagProblem,
  unlistedEngineVersionProblem,
  cidrProblem,
  cidrsOverlap,
  derivedIdentifierProblems,
  engineVersionProblem,
  environmentNameProblem,
  globalInstanceClassProblem,
  instanceIdentifier,
  overlappingPairs,
  parameterGroupFamily,
  partitionOf,
  rdsIdentifierProblem,
  regionalClusterIdentifier,
  subdivideCidr,
  slotIdentifiers,
} from '../modules/core';

describe('rdsIdentifierProblem', () => {
  test.each([
    ['keycloak', undefined],
    ['k', undefined],
    ['a'.repeat(63), undefined],
    ['keycloak-prod-1', undefined],
    ['', /1 to 63 characters/],
    ['a'.repeat(64), /1 to 63 characters long, is 64/],
    ['1keycloak', /start with a lowercase letter/],
    ['-keycloak', /start with a lowercase letter/],
    ['Keycloak', /start with a lowercase letter/],
    ['keyCloak', /only lowercase letters, digits and hyphens/],
    ['key_cloak', /only lowercase letters, digits and hyphens/],
    ['keycloak-', /must not end with a hyphen/],
    ['key--cloak', /two consecutive hyphens/],
  ])('%j → %p', (identifier, expected) => {
    const problem = rdsIdentifierProblem(identifier);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });
});

describe('derived identifiers', () => {
  test('regional clusters and instances are named after the global cluster and the Region', () => {
    expect(regionalClusterIdentifier('keycloak', 'eu-west-1')).toBe('keycloak-eu-west-1');
    expect(instanceIdentifier('keycloak-eu-west-1', 2)).toBe('keycloak-eu-west-1-2');
  });

  test('a global identifier that fits alone can derive names that are too long', () => {
    const globalId = 'k'.repeat(50); // 50 + "-ap-southeast-1" = 65 characters
    const problems = derivedIdentifierProblems(globalId, ['eu-west-1', 'ap-southeast-1'], 1);
    expect(problems.map((p) => p.identifier)).toEqual([`${globalId}-ap-southeast-1`, `${globalId}-ap-southeast-1-1`]);
    expect(problems[0].problem).toMatch(/1 to 63 characters long, is 65/);
  });

  test('the highest instance ordinal is checked, since it derives the longest name', () => {
    const globalId = 'k'.repeat(51); // cluster: 61 characters; instance 9: 63; instance 10: 64
    expect(derivedIdentifierProblems(globalId, ['eu-west-1'], 9)).toEqual([]);
    expect(derivedIdentifierProblems(globalId, ['eu-west-1'], 10)).toEqual([
      { identifier: `${globalId}-eu-west-1-10`, problem: expect.stringMatching(/is 64/) },
    ]);
  });
});

describe('environmentNameProblem', () => {
  test.each(['dev', 'prod-eu', 'a', 'team1'])('accepts %j', (name) => expect(environmentNameProblem(name)).toBeUndefined());
  test.each(['', 'Dev', '1dev', 'dev-', 'dev_1', 'a'.repeat(33)])('rejects %j', (name) =>
    expect(environmentNameProblem(name)).toMatch(/lowercase letters, digits or hyphens/),
  );
});

describe('CIDR arithmetic', () => {
  test.each([
    ['10.0.0.0/16', undefined],
    ['0.0.0.0/0', undefined],
    ['192.168.1.128/25', undefined],
    ['10.0.0.5/16', /host bits set: the network address for \/16 is 10.0.0.0\/16/],
    ['10.0.0.0/33', /not an IPv4 CIDR block/],
    ['256.0.0.0/8', /not an IPv4 CIDR block/],
    ['10.0.0.0', /not an IPv4 CIDR block/],
    ['fd00::/8', /not an IPv4 CIDR block/],
  ])('cidrProblem(%j)', (cidr, expected) => {
    const problem = cidrProblem(cidr);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });

  test.each([
    ['10.0.0.0/16', '10.0.255.0/24', true],
    ['10.0.0.0/16', '10.1.0.0/16', false],
    ['10.0.0.0/8', '10.200.0.0/16', true],
    ['10.100.0.0/20', '10.100.16.0/20', false],
    ['10.100.0.0/20', '10.100.15.0/24', true],
    ['192.168.0.0/24', '192.168.0.0/24', true],
    ['128.0.0.0/1', '200.1.0.0/16', true],
    ['0.0.0.0/1', '200.1.0.0/16', false],
  ])('cidrsOverlap(%s, %s) is %s, either way round', (left, right, overlap) => {
    expect(cidrsOverlap(left, right)).toBe(overlap);
    expect(cidrsOverlap(right, left)).toBe(overlap);
  });

  test('subdivideCidr cuts blocks in order, like Terraform cidrsubnet', () => {
    expect(subdivideCidr('10.100.0.0/16', 20, 0)).toBe('10.100.0.0/20');
    expect(subdivideCidr('10.100.0.0/16', 20, 1)).toBe('10.100.16.0/20');
    expect(subdivideCidr('10.100.0.0/16', 20, 15)).toBe('10.100.240.0/20');
    expect(subdivideCidr('10.100.16.0/20', 22, 3)).toBe('10.100.28.0/22');
    expect(subdivideCidr('200.0.0.0/8', 9, 1)).toBe('200.128.0.0/9');
  });

  test('subdivideCidr refuses a block the parent does not hold', () => {
    expect(() => subdivideCidr('10.100.0.0/16', 20, 16)).toThrow(/holds 16 blocks of \/20; block 16 does not exist/);
    expect(() => subdivideCidr('10.100.0.0/16', 12, 0)).toThrow(/cannot cut a \/12 out of 10.100.0.0\/16/);
  });

  test('overlappingPairs names each overlapping pair once', () => {
    const blocks = [
      { name: 'a', cidr: '10.0.0.0/16' },
      { name: 'b', cidr: '10.1.0.0/16' },
      { name: 'c', cidr: '10.0.128.0/17' },
    ];
    expect(overlappingPairs(blocks).map(([x, y]) => `${x.name}-${y.name}`)).toEqual(['a-c']);
  });
});

describe('engine versions and instance classes', () => {
  test.each([
    ['16.6', 'aurora-postgresql16'],
    ['13.20', 'aurora-postgresql13'],
    ['17.4', 'aurora-postgresql17'],
  ])('%s belongs to family %s', (version, family) => expect(parameterGroupFamily(version)).toBe(family));

  test.each([
    ['16', /MAJOR.MINOR/],
    ['16.6.1', /MAJOR.MINOR/],
    ['12.22', /major version 12 is not supported/],
    ['v16.6', /MAJOR.MINOR/],
  ])('engineVersionProblem(%j)', (version, expected) => expect(engineVersionProblem(version)).toMatch(expected));

  test.each(['db.r6g.large', 'db.r7g.2xlarge', 'db.r6i.xlarge', 'db.x2g.large', 'db.r8g.48xlarge'])(
    '%s is accepted for a global database',
    (instanceClass) => expect(globalInstanceClassProblem(instanceClass)).toBeUndefined(),
  );
  test.each([
    ['db.t4g.medium', /memory-optimized/],
    ['db.serverless', /db.r6g.large/],
    ['r6g.large', /db.r6g.large/],
  ])('%s is rejected', (instanceClass, expected) => expect(globalInstanceClassProblem(instanceClass)).toMatch(expected));
});

describe('partitionOf', () => {
  test.each([
    ['eu-west-1', 'aws'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['cn-north-1', 'aws-cn'],
    ['eu-west-9', undefined],
    ['EU-WEST-1', undefined],
  ])('%s → %s', (region, partition) => expect(partitionOf(region)).toBe(partition));
});

describe('closest', () => {
  test.each([
    ['eu-wset-1', ['eu-west-1', 'eu-west-2', 'us-east-1'], 'eu-west-1'],
    ['keyprefix', ['bucket', 'keyPrefix', 'region'], 'keyPrefix'],
    ['something-else', ['eu-west-1', 'us-east-1'], undefined],
  ])('%s among %p → %s', (value, candidates, expected) => expect(closest(value, candidates)).toBe(expected));

  test('editDistance counts insertions, deletions and substitutions', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });
});

describe('service rules', () => {
  test.each([
    ['keycloak', undefined],
    ['postgres', undefined],
    ['admin', /reserved by PostgreSQL or RDS/],
    ['select', /reserved/],
    ['rds_keycloak', /starts with rds_/],
    ['Keycloak', /lowercase/],
  ])('masterUsernameProblem(%s)', (name, expected) => {
    const problem = masterUsernameProblem(name);
    if (expected) expect(problem).toMatch(expected);
    else expect(problem).toBeUndefined();
  });

  test.each([
    ['team', 'identity', undefined],
    ['AWS:team', 'x', /aws: prefix/],
    ['t'.repeat(129), 'x', /1 to 128 characters/],
    ['team', 'v'.repeat(257), /at most 256/],
    ['team#1', 'x', /may contain only/],
  ])('tagProblem(%s)', (key, value, expected) => {
    const problem = tagProblem(key, value);
    if (expected) expect(problem).toMatch(expected);
    else expect(problem).toBeUndefined();
  });

  test.each([
    ['app.terraform.io', undefined],
    ['https://app.terraform.io', /without https:\/\//],
    ['tfe.example.com/app', /without a path/],
    ['localhost', /host name/],
  ])('hostnameProblem(%s)', (host, expected) => {
    const problem = hostnameProblem(host);
    if (expected) expect(problem).toMatch(expected);
    else expect(problem).toBeUndefined();
  });

  test.each([
    ['16.6', undefined],
    ['16.1', undefined],
    ['16.0', /16.1 to 16\.\d+/],
    ['16.99', /not an Aurora PostgreSQL version this release knows/],
    ['17.4', undefined],
  ])('unlistedEngineVersionProblem(%s)', (version, expected) => {
    const problem = unlistedEngineVersionProblem(version);
    if (expected) expect(problem).toMatch(expected);
    else expect(problem).toBeUndefined();
  });

  test('dnsNameProblem names the length, not the format, of a name too long', () => {
    expect(dnsNameProblem(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`)).toMatch(/is 255 characters long; a DNS name has at most 253/);
    expect(dnsNameProblem(`${'a'.repeat(64)}.example`)).toMatch(/has a label of 64 characters/);
  });
});

describe('slotIdentifiers', () => {
  test('blue is the global cluster and its members as they always were; green adds -green to both', () => {
    const blue = slotIdentifiers('keycloak-prod', 'blue');
    const green = slotIdentifiers('keycloak-prod', 'green');
    expect([blue.globalClusterIdentifier, blue.member('eu-west-1')]).toEqual(['keycloak-prod', 'keycloak-prod-eu-west-1']);
    expect([green.globalClusterIdentifier, green.member('eu-west-1')]).toEqual(['keycloak-prod-green', 'keycloak-prod-eu-west-1-green']);
  });
});
