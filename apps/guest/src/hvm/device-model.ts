// The QEMU process of an HVM domain: the serial port and QMP on Unix sockets this service listens on in a
// private directory (QEMU connects to both before it runs any guest code, so no output is lost and nobody
// else can reach them), the guest's console bytes handed on as they come, lifecycle through QMP, and
// QEMU's end told as the SHUTDOWN cause QEMU gave (or none, when it died without one).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { join } from 'node:path';
import { GuestError } from '../errors.js';
import { qemuArgs, type HvmMachine } from './qemu-args.js';
import { Qmp, type QmpEvent } from './qmp.js';

export interface DeviceModelExit {
  /** The `reason` of QEMU's last SHUTDOWN event (guest-shutdown, guest-reset, guest-panic, host-qmp-quit…). */
  cause?: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The end of QEMU's stderr, for the log. */
  stderr: string;
}

export interface DeviceModelOptions {
  qemu: string;
  machine: Omit<HvmMachine, 'serialSocket' | 'qmpSocket'>;
  /** A private (0700) directory for the two sockets. */
  socketDir: string;
  /** The guest's serial output, decoded as UTF-8. */
  console: (text: string) => void;
  onEvent?: (e: QmpEvent) => void;
  /** QEMU must connect to both sockets within this (ms). */
  startTimeoutMs?: number;
}

const START_TIMEOUT_MS = 15_000;
const QUIT_TIMEOUT_MS = 5_000;
const STDERR_KEEP = 4096;
/** util-linux's setpriv (Debian's essential util-linux) sets PR_SET_PDEATHSIG before exec. */
const SETPRIV = '/usr/bin/setpriv';

export class DeviceModel {
  readonly exited: Promise<DeviceModelExit>;
  private cause?: string;
  private stderr = '';
  private serial?: Socket;

  private constructor(
    private readonly child: ChildProcess,
    readonly qmp: Qmp,
    private readonly servers: Server[],
    exited: Promise<DeviceModelExit>,
    /** QEMU's arguments (after the wrapper's, if any). */
    readonly args: string[],
  ) {
    this.exited = exited;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  static async start(o: DeviceModelOptions): Promise<DeviceModel> {
    const serialSocket = join(o.socketDir, 'serial0.sock');
    const qmpSocket = join(o.socketDir, 'qmp.sock');
    const serialConn = listenOnce(serialSocket);
    const qmpConn = listenOnce(qmpSocket);
    const servers = [await serialConn.server, await qmpConn.server];
    const args = qemuArgs({ ...o.machine, serialSocket, qmpSocket });
    // QEMU must not outlive this service (a kill -9 of it included): setpriv makes the kernel kill it then
    const child = existsSync(SETPRIV)
      ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', o.qemu, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(o.qemu, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr = (stderr + d).slice(-STDERR_KEEP)));
    const gone = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal }));
      child.on('error', (e) => {
        stderr += `\n${e.message}`;
        resolve({ code: null, signal: null });
      });
    });
    const close = () => servers.forEach((s) => s.close(() => undefined));
    let timer: NodeJS.Timeout | undefined;
    const failed = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new GuestError(
              'EINVAL',
              `QEMU did not connect to its sockets within ${(o.startTimeoutMs ?? START_TIMEOUT_MS) / 1000} s`,
            ),
          ),
        o.startTimeoutMs ?? START_TIMEOUT_MS,
      );
      void gone.then(({ code, signal }) =>
        reject(
          new GuestError(
            'EINVAL',
            `${o.qemu} exited (${signal ?? code}) before it started: ${stderr.trim().split('\n').slice(-3).join(' / ')}`,
          ),
        ),
      );
    });
    let dm!: DeviceModel;
    const events: QmpEvent[] = [];
    try {
      const [serial, qmpSock] = await Promise.race([Promise.all([serialConn.socket, qmpConn.socket]), failed]);
      const qmp = await Promise.race([Qmp.open(qmpSock, (e) => (dm ? dm.onEvent(e, o) : events.push(e))), failed]);
      const exited = gone.then(({ code, signal }) => {
        close();
        return { cause: dm.cause, code, signal, stderr: dm.stderr || stderr };
      });
      dm = new DeviceModel(child, qmp, servers, exited, args);
      dm.stderr = stderr;
      child.stderr.on('data', (d: string) => (dm.stderr = (dm.stderr + d).slice(-STDERR_KEEP)));
      for (const e of events) dm.onEvent(e, o);
      dm.serial = serial;
      const dec = new StringDecoder('utf8');
      serial.on('data', (d: Buffer) => {
        const t = dec.write(d);
        if (t) o.console(t);
      });
      serial.on('error', () => undefined);
      return dm;
    } catch (e) {
      child.kill('SIGKILL');
      close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Console input to the serial port (the guest's tty turns "\r" or "\n" into a line end). */
  input(text: string): void {
    this.serial?.write(text);
  }

  /** The vCPUs stop (QMP stop) or run (cont): the domain paused or unpaused. */
  async setRunning(run: boolean): Promise<void> {
    await this.qmp.execute(run ? 'cont' : 'stop');
  }

  async running(): Promise<boolean> {
    return (await this.qmp.execute<{ running: boolean }>('query-status')).running;
  }

  /** The ACPI power button (xl shutdown -F on a guest without PV drivers). */
  async powerButton(): Promise<void> {
    await this.qmp.execute('system_powerdown');
  }

  /** A hard reset; with -no-reboot QEMU then exits with cause host-qmp-system-reset. */
  async reset(): Promise<void> {
    await this.qmp.execute('system_reset');
  }

  /** Ends QEMU: QMP quit, then SIGKILL if it is still there after QUIT_TIMEOUT_MS. */
  async quit(): Promise<DeviceModelExit> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await this.qmp.execute('quit').catch(() => undefined);
      const t = setTimeout(() => this.child.kill('SIGKILL'), QUIT_TIMEOUT_MS);
      const r = await this.exited;
      clearTimeout(t);
      return r;
    }
    return this.exited;
  }

  private onEvent(e: QmpEvent, o: DeviceModelOptions): void {
    if (e.event === 'SHUTDOWN' && typeof e.data?.reason === 'string') this.cause = e.data.reason;
    o.onEvent?.(e);
  }
}

/** A Unix socket server that takes one connection (QEMU's). */
function listenOnce(path: string): { server: Promise<Server>; socket: Promise<Socket> } {
  let accept!: (s: Socket) => void;
  const socket = new Promise<Socket>((r) => (accept = r));
  const srv = createServer((s) => {
    accept(s);
    srv.close();
  });
  const server = new Promise<Server>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(path, () => resolve(srv));
  });
  return { server, socket };
}
