// A supervised service process: its pino JSON lines are shown as `name | level message`, and readiness is
// its /readyz health endpoint answering 200.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { freeLoopbackPort, stopProcess } from './proc.js';
import type { ServiceSpec } from './services.js';

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

export class ServiceProcess {
  child?: ChildProcess;
  healthPort = 0;
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;

  constructor(
    readonly spec: ServiceSpec,
    private readonly root: string,
    private readonly baseEnv: Record<string, string>,
    private readonly out: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    this.healthPort = await freeLoopbackPort();
    const child = spawn(process.execPath, [`${this.root}/${this.spec.main}`], {
      env: { ...process.env, ...this.baseEnv, ...this.spec.env, DOMINION_HEALTH_PORT: String(this.healthPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (l) => this.out(this.format(l)));
    }
    child.once('exit', (code, signal) => this.onExit?.(code, signal));
  }

  private format(line: string): string {
    const pad = this.spec.name.padEnd(5);
    try {
      const j = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      const lvl = LEVELS[j.level ?? 30] ?? 'info';
      return `${pad}| ${lvl === 'info' ? '' : lvl + ' '}${j.msg ?? ''}${j.err?.message ? ': ' + j.err.message : ''}`;
    } catch {
      return `${pad}| ${line}`;
    }
  }

  async waitReady(timeoutMs = 30000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.child?.exitCode !== null && this.child?.exitCode !== undefined)
        throw new Error(`${this.spec.name} exited with code ${this.child.exitCode} before it was ready`);
      try {
        const r = await fetch(`http://127.0.0.1:${this.healthPort}/readyz`);
        if (r.status === 200) return;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.spec.name} was not ready within ${timeoutMs} ms`);
  }

  async stop(): Promise<void> {
    if (this.child) await stopProcess(this.child);
  }
}
