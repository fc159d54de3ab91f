// A QMP client (docs/interop/qmp-spec): QEMU greets, we negotiate capabilities, then each command is one
// JSON object with an id and gets one return or error; asynchronous events come in between.
import type { Socket } from 'node:net';
import { GuestError } from '../errors.js';

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

interface Pending {
  command: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class Qmp {
  private buf = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private greeted!: Promise<void>;
  private closedWhy?: string;

  private constructor(
    private readonly sock: Socket,
    private readonly onEvent: (e: QmpEvent) => void,
  ) {}

  /** Reads the greeting and leaves capabilities negotiation mode. */
  static async open(sock: Socket, onEvent: (e: QmpEvent) => void): Promise<Qmp> {
    const q = new Qmp(sock, onEvent);
    q.greeted = new Promise((resolve, reject) => {
      q.pending.set('greeting', { command: 'greeting', resolve: () => resolve(), reject });
    });
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => q.onData(d));
    sock.on('close', () => q.fail('QEMU closed the QMP socket'));
    sock.on('error', (e) => q.fail(`QMP socket: ${e.message}`));
    await q.greeted;
    await q.execute('qmp_capabilities');
    return q;
  }

  get closed(): boolean {
    return this.closedWhy !== undefined;
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closedWhy) return Promise.reject(new GuestError('EINVAL', `QMP ${command}: ${this.closedWhy}`));
    const id = `d${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject });
      this.sock.write(JSON.stringify({ execute: command, ...(args && { arguments: args }), id }) + '\n');
    });
  }

  close(): void {
    this.sock.destroy();
  }

  private onData(d: string): void {
    this.buf += d;
    for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (line) this.onMessage(line);
    }
  }

  private onMessage(line: string): void {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return this.fail(`QMP: not JSON: ${line.slice(0, 200)}`);
    }
    if ('QMP' in m) return this.settle('greeting', m);
    if (typeof m.event === 'string') return this.onEvent(m as unknown as QmpEvent);
    const id = typeof m.id === 'string' ? m.id : undefined;
    if (!id) return;
    if ('error' in m) {
      const e = m.error as { class?: string; desc?: string };
      return this.settle(id, undefined, `${e.class ?? 'Error'}: ${e.desc ?? 'no description'}`);
    }
    this.settle(id, m.return);
  }

  private settle(id: string, value: unknown, error?: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (error !== undefined) p.reject(new GuestError('EINVAL', `QMP ${p.command}: ${error}`));
    else p.resolve(value);
  }

  private fail(why: string): void {
    if (this.closedWhy) return;
    this.closedWhy = why;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new GuestError('EINVAL', `QMP ${p.command}: ${why}`));
    }
  }
}
