import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');

/** Runs the project's cdktf CLI as a user would, with synth output in a folder of its own. */
function cdktf(args: string[]): Promise<{ code: number | null; output: string; outdir: string }> {
  const outdir = mkdtempSync(join(tmpdir(), 'keycloak-aurora-dr-cli-'));
  return new Promise((resolve, reject) => {
    const child = spawn(join(root, 'node_modules', '.bin', 'cdktf'), [...args, '--output', outdir], {
      cwd: root,
      env: { ...process.env, CHECKPOINT_DISABLE: '1', CI: 'true' },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output: output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''), outdir }));
  });
}

describe('cdktf CLI: stack order', () => {
  test.concurrent(
    'destroying a database stack alone is refused while its site stacks depend on it',
    async () => {
      const { code, output, outdir } = await cdktf(['destroy', 'prod-database', '--auto-approve']);
      expect(code).not.toBe(0);
      expect(output).toMatch(/The following dependant stacks are not included in the stacks to run: prod-site-a-access, prod-site-b-access/);
      expect(readdirSync(join(outdir, 'stacks', 'prod-database'))).not.toContain('.terraform');
      rmSync(outdir, { recursive: true, force: true });
    },
    120_000,
  );

  test.concurrent(
    'deploying a site stack without its database stack is refused',
    async () => {
      const { code, output, outdir } = await cdktf(['deploy', 'prod-site-a-access', '--auto-approve']);
      expect(code).not.toBe(0);
      expect(output).toMatch(/The following dependencies are not included in the stacks to run: prod-database/);
      rmSync(outdir, { recursive: true, force: true });
    },
    120_000,
  );
});
