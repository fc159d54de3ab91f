// `npm start`'s launcher, run as a user runs it (built output, real nats-server, real services): every
// domain comes up ready, XenStore answers the stock tools on the printed socket, and Ctrl-C stops it all.
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir, waitFor } from '@dominion/testing';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');

describe('launcher', () => {
  it('starts the hypervisor and dom0, serves xenstore-ls on the printed socket, and stops cleanly on SIGINT', async () => {
    const home = tempDir();
    const child = spawn(process.execPath, [main], {
      env: { ...process.env, DOMINION_HOME: home.path, DOMINION_NATS_PORT: '0', DOMINION_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor(() => out.includes('Dominion is up.'), 30000, `the launcher to come up; output so far:\n${out}`);
      expect(out).toMatch(/launcher: xen is ready/);
      expect(out).toMatch(/launcher: dom0 is ready/);
      const socket = /XENSTORED_PATH=(\S+) xenstore-ls/.exec(out)?.[1];
      expect(socket).toBe(join(home.path, 'dom0', 'xenstored.socket'));
      const ls = execFileSync('xenstore-ls', ['/local/domain/0'], { env: { ...process.env, XENSTORED_PATH: socket } });
      expect(ls.toString()).toMatch(/^name = "Domain-0"$/m);
    } finally {
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      home.remove();
    }
    expect(out).toMatch(/dom0 stopping/);
  });
});
