// Keeps one child process running: started again after it exits, with a delay that doubles from
// `initialMs` to `maxMs` and falls back to `initialMs` once a child has run for `stableMs`. The child gets
// SIGKILL if this process dies (setpriv --pdeathsig, where util-linux has it), so that a netback killed
// with -9 leaves no child holding its TAP; stop() sends SIGTERM, then SIGKILL after `graceMs`.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { silentLogger, type NetbackLogger } from './logger.js';

export interface ChildCommand {
  file: string;
  args: string[];
}

export interface ChildSupervisorOptions {
  /** What to run this time (called before every start: arguments may change between restarts). */
  command: () => ChildCommand | Promise<ChildCommand>;
  /** For log lines. */
  what: string;
  /** Called when a child has started; a throw (or rejection) kills it and counts as a failed start. */
  started?: (child: ChildProcess) => void | Promise<void>;
  initialMs?: number;
  maxMs?: number;
  stableMs?: number;
  graceMs?: number;
  logger?: NetbackLogger;
}

/** The absolute path of `file` on PATH, if it is there. */
export function onPath(file: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, file))) return join(dir, file);
  }
  return undefined;
}

const SETPRIV = onPath('setpriv');

export class ChildSupervisor {
  /** Children started after the first. */
  restarts = 0;
  private child: ChildProcess | undefined;
  private delay: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private stderr = '';
  private readonly log: NetbackLogger;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly stableMs: number;
  private readonly graceMs: number;

  constructor(private readonly opts: ChildSupervisorOptions) {
    this.log = opts.logger ?? silentLogger;
    this.initialMs = opts.initialMs ?? 100;
    this.maxMs = opts.maxMs ?? 5000;
    this.stableMs = opts.stableMs ?? 10_000;
    this.graceMs = opts.graceMs ?? 2000;
    this.delay = this.initialMs;
  }

  /** The running child's pid. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    const c = this.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  start(): void {
    void this.launch(false);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const c = this.child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    let t: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (t = setTimeout(r, this.graceMs)))]);
    clearTimeout(t);
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await exited;
    }
  }

  private async launch(restart: boolean): Promise<void> {
    if (this.stopped) return;
    let cmd: ChildCommand;
    try {
      cmd = await this.opts.command();
    } catch (e) {
      this.log('error', `${this.opts.what}: ${(e as Error).message}`);
      return this.again();
    }
    if (this.stopped) return;
    if (restart) this.restarts++;
    const [file, args] = SETPRIV
      ? [SETPRIV, ['--pdeathsig', 'KILL', '--', cmd.file, ...cmd.args]]
      : [cmd.file, cmd.args];
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.stderr = '';
    const startedAt = Date.now();
    child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)));
    child.once('error', (e) => this.log('error', `${this.opts.what}: ${e.message}`));
    child.once('close', (code, signal) => {
      if (this.child !== child) return;
      if (this.stopped) return;
      if (Date.now() - startedAt >= this.stableMs) this.delay = this.initialMs;
      this.log('warn', `${this.opts.what} exited (${signal ?? `code ${code}`}); restarting in ${this.delay} ms`, {
        stderr: this.stderr.trim(),
      });
      this.again();
    });
    this.log('info', `${this.opts.what} started (pid ${child.pid})`, { command: [cmd.file, ...cmd.args].join(' ') });
    try {
      await this.opts.started?.(child);
    } catch (e) {
      if (this.child === child && !this.stopped) {
        this.log('error', `${this.opts.what}: ${(e as Error).message}`, { stderr: this.stderr.trim() });
        child.kill('SIGKILL');
      }
    }
  }

  private again(): void {
    if (this.stopped) return;
    const wait = this.delay;
    this.delay = Math.min(this.delay * 2, this.maxMs);
    this.timer = setTimeout(() => void this.launch(true), wait);
  }
}
