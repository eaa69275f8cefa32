/** The reusable constructs and pure helpers of keycloak-aurora-dr, for other teams to import. */
export * from './aurora-global-database';
export * from './aurora-network';
export * from './core';
export * from './state-backend';
