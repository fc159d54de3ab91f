// Starts a real Debian nats-server on a random loopback port for a test, and stops it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface NatsServerHandle {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** /usr/sbin is not on every PATH; the Debian package installs there. */
export function natsServerPath(): string {
  for (const p of [process.env.NATS_SERVER_BIN, '/usr/sbin/nats-server', '/usr/bin/nats-server']) {
    if (p && existsSync(p)) return p;
  }
  throw new Error('nats-server not found: install the Debian package nats-server (apt-get install nats-server)');
}

export interface StartNatsOptions {
  /** Extra arguments, e.g. ['-c', configFile]. */
  args?: string[];
  /** Port to listen on; default (and 0) = a random free port. */
  port?: number;
  /** When a config file sets the listen address itself. */
  noDefaultListen?: boolean;
  timeoutMs?: number;
}

export async function startNatsServer(opts: StartNatsOptions = {}): Promise<NatsServerHandle> {
  const listen = opts.noDefaultListen ? [] : ['-a', '127.0.0.1', '-p', String(opts.port || -1)];
  const child = spawn(natsServerPath(), [...listen, '-m', '0', ...(opts.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`nats-server did not start within ${opts.timeoutMs ?? 10000} ms:\n${log}`));
    }, opts.timeoutMs ?? 10000);
    const onData = (d: Buffer): void => {
      log += d.toString();
      const m = /Listening for client connections on [^\s]*:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`nats-server exited with ${code}:\n${log}`));
    });
  });
  child.stdout.removeAllListeners('data');
  child.stderr.removeAllListeners('data');
  child.stdout.resume();
  child.stderr.resume();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    process: child,
    stop: () => stopChild(child),
  };
}

/** SIGTERM, then SIGKILL after a grace period; resolves when the child has exited. */
export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
