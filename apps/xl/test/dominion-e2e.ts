// The end-to-end harness of xl's tests: the built launcher brings up nats-server (operator mode), the
// hypervisor and dom0 in a fresh DOMINION_HOME; the built xl runs against it as a user's would.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { HypervisorClient } from '@dominion/hypervisor';
import { tempDir, waitFor } from '@dominion/testing';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const launcherMain = join(repo, 'tools', 'launch', 'dist', 'main.js');
export const xlMain = join(repo, 'apps', 'xl', 'dist', 'main.js');
export const miniosCfg = join(repo, 'examples', 'minios.cfg');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env } }, (e, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr });
    });
  });
}

export interface Dominion {
  home: ReturnType<typeof tempDir>;
  /** The environment that points xl at this system. */
  env: Record<string, string>;
  /** A dom0 connection of the test's own. */
  nc: NatsConnection;
  hv: HypervisorClient;
  /** The built xl, run to completion. */
  xl(...args: string[]): Promise<Run>;
  /** The launcher's output so far. */
  output(): string;
  /** SIGINT to the launcher; resolves with its exit code, the home removed. */
  stop(): Promise<number | null>;
}

export async function startDominion(prefix: string): Promise<Dominion> {
  const home = tempDir(prefix);
  const env = { DOMINION_HOME: home.path, DOMINION_NATS_URL: '' };
  let output = '';
  const launcher: ChildProcess = spawn(process.execPath, [launcherMain], {
    env: { ...process.env, DOMINION_HOME: home.path, DOMINION_NATS_PORT: '0', DOMINION_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  launcher.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  launcher.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => launcher.once('exit', (code) => r(code)));
  await waitFor(() => output.includes('Dominion is up.'), 20000, `the launcher to come up:\n${output}`);
  const bus = JSON.parse(readFileSync(join(home.path, 'bus.json'), 'utf8')) as {
    url: string;
    creds: string;
    inboxPrefix: string;
  };
  const nc = await connect({
    servers: bus.url,
    authenticator: credsAuthenticator(readFileSync(bus.creds)),
    inboxPrefix: bus.inboxPrefix,
  });
  return {
    home,
    env,
    nc,
    hv: new HypervisorClient(nc, 0),
    xl: (...args) => run(process.execPath, [xlMain, ...args], env),
    output: () => output,
    stop: async () => {
      await nc.close();
      launcher.kill('SIGINT');
      const code = await exited;
      home.remove();
      return code;
    },
  };
}
