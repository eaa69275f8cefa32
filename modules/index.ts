/** The reusable constructs and pure helpers of keycloak-aurora-dr, for other teams to import. */
export * from './aurora-clone';
export * from './aurora-global-database';
export * from './aurora-instances';
export * from './aurora-network';
export * from './core';
export * from './keycloak-connection';
export * from './site-peering';
export * from './state-backend';
export * from './writer-dns-record';
export * from './writer-failover-handler';
export * from './dr-orchestrator';
export * from './green-global-database';
