#!/usr/bin/env node
// The operations CLI. Installed as a package it runs the bundle `npm pack` built (dist/cli/main.js).
// In a checkout it is bundled from cli/ with esbuild when a source it was built from has changed
// since (about 0.1 s), so it always matches the sources and the environments there.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(
    `error: keycloak-aurora-dr needs Node.js 22 or later, and this is ${process.version}. ` +
      'Run it as `npx keycloak-aurora-dr` or `npm run ops --`, which use the Node.js 22 that `npm ci` installs into node_modules/.bin, ' +
      'or put that folder first on PATH.\n',
  );
  process.exit(2);
}
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const shipped = path.join(root, 'dist', 'cli', 'main.js');
if (!fs.existsSync(path.join(root, 'cli', 'main.ts'))) {
  if (!fs.existsSync(shipped)) {
    process.stderr.write(`error: the keycloak-aurora-dr package is missing its CLI (${shipped}); reinstall it\n`);
    process.exit(70);
  }
  require(shipped);
  return;
}
const bundle = path.join(root, 'node_modules', '.cache', 'keycloak-aurora-dr', 'cli.js');
const metafile = `${bundle}.meta.json`;

function upToDate() {
  try {
    const built = fs.statSync(bundle).mtimeMs;
    const { inputs } = JSON.parse(fs.readFileSync(metafile, 'utf8'));
    return Object.keys(inputs).every((input) => fs.statSync(path.join(root, input)).mtimeMs <= built);
  } catch {
    return false;
  }
}

if (!upToDate()) {
  const result = require('esbuild').buildSync({
    absWorkingDir: root,
    entryPoints: [path.join(root, 'cli', 'main.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    packages: 'external',
    target: 'node22',
    logLevel: 'warning',
    metafile: true,
    write: false,
  });
  // Renamed into place, so that a CLI starting meanwhile reads the old bundle or the new one, never half of one.
  const replace = (file, contents) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.${process.pid}`, contents);
    fs.renameSync(`${file}.${process.pid}`, file);
  };
  replace(bundle, result.outputFiles[0].contents);
  replace(metafile, JSON.stringify(result.metafile));
}
require(bundle);
