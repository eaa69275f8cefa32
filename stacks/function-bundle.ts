import type { BuildOptions } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HANDLER_RUNTIME } from '../modules/writer-failover-handler';
import { packageRoot } from './package-root';

export { packageRoot };

/** The functions the package ships prebuilt. */
export const FUNCTION_NAMES = ['writer-dns', 'dr-orchestrator'] as const;

/** Where an installed package keeps its prebuilt handler zips. */
export const prebuiltZip = (root: string, name: string) => join(root, 'dist', 'assets', `${name}.zip`);

/** A Lambda deployment package: a zip holding `index.js`. */
export interface FunctionBundle {
  readonly zipFile: string;
  /** Hex SHA-256 of the zip: the same sources give the same zip, and so the same hash, on any machine. */
  readonly sha256: string;
}

/** What a bundle was built from: the options, the lock file, and every project file esbuild read. */
interface BundleStamp {
  readonly options: string;
  readonly inputs: Record<string, string | undefined>;
}

/** Zip entries get this fixed time, so the zip depends only on the code. */
const ZIP_ENTRY_TIME = new Date('2000-01-01T00:00:00Z');

const bundles = new Map<string, FunctionBundle>();

/**
 * Bundles `functions/<name>/handler.ts` with esbuild into one minified `index.js` for the Lambda
 * runtime, zipped. The bundle is rebuilt only when its options, the lock file or a project file it
 * was built from changed, and at most once per process.
 */
export function bundleFunction(name: string): FunctionBundle {
  const cached = bundles.get(name);
  if (cached) return cached;
  const root = packageRoot();
  // Installed from the registry or a tarball: no sources, the zip built at pack time, byte for byte.
  if (!existsSync(join(root, 'functions', name, 'handler.ts'))) {
    const zipFile = prebuiltZip(root, name);
    if (!existsSync(zipFile)) throw new Error(`keycloak-aurora-dr ships ${name} prebuilt at ${zipFile}, which is missing: reinstall the package`);
    return remember(name, zipFile);
  }
  const { buildSync } = require('esbuild') as typeof import('esbuild');
  const { zipSync } = require('fflate') as typeof import('fflate');
  const outdir = join(root, 'node_modules', '.cache', 'keycloak-aurora-dr', 'functions', name);
  const codeFile = join(outdir, 'index.js');
  const zipFile = join(outdir, `${name}.zip`);
  const stampFile = join(outdir, 'stamp.json');
  const options: BuildOptions = {
    entryPoints: [join(root, 'functions', name, 'handler.ts')],
    outfile: codeFile,
    bundle: true,
    platform: 'node',
    target: HANDLER_RUNTIME.replace('nodejs', 'node').replace('.x', ''),
    format: 'cjs',
    // The SDK's ES module builds tree-shake: only the commands the handler sends are bundled.
    mainFields: ['module', 'main'],
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  };
  const optionsKey = JSON.stringify({ ...options, entryPoints: [join('functions', name, 'handler.ts')], outfile: undefined });

  const upToDate = [codeFile, zipFile, stampFile].every((file) => existsSync(file)) && stampMatches(root, stampFile, optionsKey);
  if (!upToDate) {
    const { metafile, outputFiles } = buildSync({ ...options, metafile: true, write: false });
    mkdirSync(outdir, { recursive: true });
    replaceFile(codeFile, outputFiles[0].contents);
    const projectInputs = Object.keys(metafile.inputs)
      .filter((input) => !input.includes('node_modules/'))
      .map((input) => relativeTo(root, input));
    const stamp: BundleStamp = {
      options: optionsKey,
      inputs: Object.fromEntries(['package-lock.json', ...projectInputs].map((file) => [file, hashFile(root, file)])),
    };
    replaceFile(zipFile, zipSync({ 'index.js': [readFileSync(codeFile), { level: 9, mtime: ZIP_ENTRY_TIME }] }));
    replaceFile(stampFile, JSON.stringify(stamp, null, 2));
  }
  return remember(name, zipFile);
}

/** The bundle of a zip, hashed once per process. */
function remember(name: string, zipFile: string): FunctionBundle {
  const bundle = { zipFile, sha256: createHash('sha256').update(readFileSync(zipFile)).digest('hex') };
  bundles.set(name, bundle);
  return bundle;
}

/** Written beside and renamed into place: a synth running meanwhile reads the old file or the new one, never half of one. */
function replaceFile(file: string, contents: string | Uint8Array): void {
  const temporary = `${file}.${process.pid}`;
  writeFileSync(temporary, contents);
  renameSync(temporary, file);
}

function stampMatches(root: string, stampFile: string, optionsKey: string): boolean {
  const stamp: BundleStamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  return stamp.options === optionsKey && Object.entries(stamp.inputs).every(([file, hash]) => hashFile(root, file) === hash);
}

/** esbuild names inputs relative to the working directory; the stamp names them relative to the project. */
function relativeTo(root: string, input: string): string {
  const absolute = join(process.cwd(), input);
  return absolute.startsWith(`${root}/`) ? absolute.slice(root.length + 1) : input;
}

function hashFile(root: string, file: string): string | undefined {
  const path = join(root, file);
  return existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : undefined;
}

/**
 * What `npm pack` ships besides the compiled code: every handler zip (the same bytes synth builds
 * here) and the operations CLI as one bundle, so an installed package needs neither esbuild nor
 * the sources.
 */
export function writePackageAssets(root = packageRoot()): void {
  mkdirSync(join(root, 'dist', 'assets'), { recursive: true });
  for (const name of FUNCTION_NAMES) copyFileSync(bundleFunction(name).zipFile, prebuiltZip(root, name));
  const { buildSync } = require('esbuild') as typeof import('esbuild');
  buildSync({
    absWorkingDir: root,
    entryPoints: [join(root, 'cli', 'main.ts')],
    outfile: join(root, 'dist', 'cli', 'main.js'),
    bundle: true,
    platform: 'node',
    packages: 'external',
    target: 'node22',
    logLevel: 'warning',
  });
}

if (require.main === module) writePackageAssets();
