// Every stack of every environment in environments.js, validated first: `cdktf synth` runs this.
// An invalid environment prints every field and rule, exits 1 and writes nothing.
const { synthesizeOrReport } = require('keycloak-aurora-dr/stacks');
const { environments } = require('./environments');

synthesizeOrReport(environments);
