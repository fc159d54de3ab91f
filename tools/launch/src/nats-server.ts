// The launcher's nats-server: Debian's binary started with the configuration prepare wrote (operator mode)
// or, with auth off, on a loopback port; ready once it logs its client listener. The test harness's copy
// lives in @dominion/testing; production code does not import a test library.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { stopProcess } from './proc.js';

export interface NatsServer {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** /usr/sbin is not on every PATH; the Debian package installs there. NATS_SERVER_BIN overrides. */
export function natsServerBinary(): string {
  for (const p of [process.env.NATS_SERVER_BIN, '/usr/sbin/nats-server', '/usr/bin/nats-server']) {
    if (p && existsSync(p)) return p;
  }
  throw new Error('nats-server not found: install the Debian package nats-server (apt-get install nats-server)');
}

export type NatsServerListen = { configFile: string } | { port: number };

export interface SpawnNatsOptions {
  timeoutMs?: number;
  /** Each line the server logs once it is up (permission violations name the offending user there). */
  onLine?: (line: string) => void;
}

/** Starts nats-server; `{ port: 0 }` picks any free loopback port. Rejects with its log if it exits or stalls. */
export async function spawnNatsServer(listen: NatsServerListen, opts: SpawnNatsOptions = {}): Promise<NatsServer> {
  const timeoutMs = opts.timeoutMs ?? 10000;
  const args =
    'configFile' in listen ? ['-c', listen.configFile] : ['-a', '127.0.0.1', '-p', String(listen.port || -1)];
  const child = spawn(natsServerBinary(), [...args, '-m', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`nats-server did not start within ${timeoutMs} ms:\n${log}`));
    }, timeoutMs);
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
  const onLine = opts.onLine;
  if (onLine) for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', onLine);
  else {
    child.stdout.resume();
    child.stderr.resume();
  }
  return { url: `nats://127.0.0.1:${port}`, port, process: child, stop: () => stopProcess(child) };
}
