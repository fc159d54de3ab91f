// The local launcher of guests: each domU is a Node process of apps/guest, its output appended to
// <stateDir>/logs/<name>.log. It runs detached (its own process group), so that it outlives a dom0 that is
// killed, and a Ctrl-C on dom0's terminal reaches dom0 alone, which then stops its guests in order. A dom0
// that comes back adopts the guests still running by pid (AdoptedGuestProcess). Stopping is SIGTERM, then
// SIGKILL after a grace period.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

const KILL_GRACE_MS = 3000;
/** How often an adopted guest (not our child: no exit event) is checked. */
const ADOPTED_POLL_MS = 250;

export interface GuestProcessSpec {
  main: string;
  env: Record<string, string>;
  logFile: string;
}

export interface GuestExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running guest, started by this dom0 or adopted from an earlier one. */
export interface GuestRunner {
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Resolves when the process has exited. */
  readonly exited: Promise<GuestExit>;
  stop(): Promise<void>;
}

export class GuestProcess implements GuestRunner {
  private readonly child: ChildProcess;
  readonly exited: Promise<GuestExit>;
  private done = false;

  constructor(spec: GuestProcessSpec) {
    mkdirSync(dirname(spec.logFile), { recursive: true });
    const fd = openSync(spec.logFile, 'a');
    try {
      this.child = spawn(process.execPath, [spec.main], {
        env: { ...process.env, ...spec.env },
        stdio: ['ignore', fd, fd],
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.done = true;
        resolve({ code, signal });
      });
      this.child.once('error', () => {
        this.done = true;
        resolve({ code: null, signal: null });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.done;
  }

  async stop(): Promise<void> {
    if (this.done) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), KILL_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Whether `pid` is the guest process we started with `env`: its environment names the same domain and
 * state directory (a pid recycled since, even by another system's guest of the same domid, does not).
 */
export function isGuestProcess(pid: number, env: Record<string, string>): boolean {
  try {
    const seen = new Set(readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0'));
    return ['DOMINION_DOMID', 'DOMINION_STATE_DIR'].every((k) => seen.has(`${k}=${env[k]}`));
  } catch {
    return false;
  }
}

/** A guest another dom0 process started: not our child, so its end is noticed by polling. */
export class AdoptedGuestProcess implements GuestRunner {
  readonly exited: Promise<GuestExit>;
  private done = false;
  private readonly timer: NodeJS.Timeout;

  constructor(readonly pid: number) {
    let resolveExit!: (e: GuestExit) => void;
    this.exited = new Promise((r) => (resolveExit = r));
    this.timer = setInterval(() => {
      if (alive(pid)) return;
      clearInterval(this.timer);
      this.done = true;
      resolveExit({ code: null, signal: null });
    }, ADOPTED_POLL_MS);
  }

  get running(): boolean {
    return !this.done;
  }

  async stop(): Promise<void> {
    if (this.done) return;
    const kill = (s: NodeJS.Signals): void => {
      try {
        process.kill(this.pid, s);
      } catch {
        /* already gone */
      }
    };
    kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** Stops watching without touching the process (dom0 shutting down). */
  forget(): void {
    clearInterval(this.timer);
  }
}
