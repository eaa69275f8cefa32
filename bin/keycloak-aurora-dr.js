#!/usr/bin/env node
// The operations CLI. It is bundled from cli/ with esbuild on each run (about 0.1 s), so it always
// matches the sources and the environments in this checkout.
const { buildSync } = require('esbuild');
const path = require('node:path');

const root = path.join(__dirname, '..');
const bundle = path.join(root, 'node_modules', '.cache', 'keycloak-aurora-dr', 'cli.js');
buildSync({
  entryPoints: [path.join(root, 'cli', 'main.ts')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  packages: 'external',
  target: 'node20',
  logLevel: 'warning',
});
require(bundle);
