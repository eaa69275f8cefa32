import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The folder of this package, found from this file whether it runs as source, bundled, compiled to
 * dist/, or installed under another project's node_modules.
 */
export function packageRoot(from = __dirname): string {
  for (let folder = from; ; folder = dirname(folder)) {
    const manifest = join(folder, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'keycloak-aurora-dr') return folder;
    if (dirname(folder) === folder) throw new Error(`no keycloak-aurora-dr package.json above ${from}`);
  }
}
