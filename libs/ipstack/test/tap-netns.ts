// A real Linux host on a wire our stack can reach: a network namespace holding a TAP whose frames a socat in
// the host namespace carries as UDP datagrams on 127.0.0.1 (one Ethernet frame per datagram), to and from
// a node:dgram socket in the test. socat opens the TAP in the host namespace (so its UDP socket sits on the
// host's loopback) and the open TAP is then moved into the namespace, where it gets its address.
// Needs root, `ip`, `socat` and `ping`; everything created here is removed by close().
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { promisify } from 'node:util';
import { waitFor } from '@dominion/testing';

const run = promisify(execFile);

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Why this machine cannot run the netns tests, or undefined when it can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (network namespaces and TAP devices need CAP_NET_ADMIN)';
  for (const tool of ['ip', 'socat', 'ping']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

export class TapNetns {
  readonly ns: string;
  readonly tap: string;
  /** The namespace side's address on the TAP. */
  readonly hostIp: string;
  readonly prefix = 24;
  readonly subnet: string;
  private socat?: ChildProcess;
  private socatLog = '';
  private nsCreated = false;
  private readonly sock = dgram.createSocket('udp4');
  private socatPort = 0;

  private constructor() {
    const tag = randomBytes(3).toString('hex');
    this.ns = `dom-ipstack-${tag}`;
    this.tap = `dipst${tag}`; // IFNAMSIZ: at most 15 characters
    const third = 100 + (randomBytes(1)[0] % 100);
    this.subnet = `10.77.${third}`;
    this.hostIp = `${this.subnet}.1`;
  }

  /** Builds the namespace and TAP; `onFrame` gets every frame the namespace puts on the wire. */
  static async create(onFrame: (frame: Buffer) => void): Promise<TapNetns> {
    const t = new TapNetns();
    try {
      await t.setUp(onFrame);
    } catch (e) {
      await t.close();
      throw e;
    }
    return t;
  }

  /** Puts a frame on the wire towards the namespace. */
  send(frame: Uint8Array): void {
    this.sock.send(frame, this.socatPort, '127.0.0.1');
  }

  /** Runs a command inside the namespace; never rejects on a non-zero exit. */
  async exec(argv: string[], timeoutMs = 10000): Promise<ExecResult> {
    try {
      const { stdout, stderr } = await run('ip', ['netns', 'exec', this.ns, ...argv], { timeout: timeoutMs });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code?: number | string; stdout?: string; stderr?: string };
      return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
    }
  }

  /** Starts a command inside the namespace and leaves it running. */
  spawn(argv: string[]): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.ns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
  }

  async close(): Promise<void> {
    const socat = this.socat;
    if (socat && socat.exitCode === null && socat.signalCode === null) {
      const exited = new Promise<void>((r) => socat.once('exit', () => r()));
      socat.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 2000)))]);
      clearTimeout(timer);
      if (socat.exitCode === null && socat.signalCode === null) socat.kill('SIGKILL');
    }
    // Deleting the namespace removes the TAP moved into it.
    if (this.nsCreated) await run('ip', ['netns', 'del', this.ns]).catch(() => undefined);
    // A TAP that never made it into the namespace goes with socat; make sure.
    await run('ip', ['link', 'del', this.tap]).catch(() => undefined);
    try {
      this.sock.close();
    } catch {
      // already closed
    }
  }

  private async setUp(onFrame: (frame: Buffer) => void): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.sock.once('error', reject);
      this.sock.bind(0, '127.0.0.1', () => resolve());
    });
    this.sock.on('message', (m) => onFrame(m));
    const ourPort = this.sock.address().port;
    this.socatPort = await freeUdpPort();
    await run('ip', ['netns', 'add', this.ns]);
    this.nsCreated = true;
    // No IPv6 chatter (router solicitations, MLD) on the wire: the tests count frames.
    await this.exec(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    // iff-no-pi: without it every frame carries the 4-byte tun_pi header (flags, protocol) in front.
    this.socat = spawn(
      'socat',
      [
        `TUN,tun-type=tap,iff-no-pi,tun-name=${this.tap}`,
        `UDP-DATAGRAM:127.0.0.1:${ourPort},bind=127.0.0.1:${this.socatPort}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.socat.stderr!.on('data', (d: Buffer) => (this.socatLog += d.toString()));
    await waitFor(
      async () => {
        if (this.socat!.exitCode !== null) throw new Error(`socat exited ${this.socat!.exitCode}: ${this.socatLog}`);
        return run('ip', ['link', 'show', this.tap]).then(
          () => true,
          () => false,
        );
      },
      5000,
      `TAP ${this.tap} from socat`,
    );
    await run('ip', ['link', 'set', this.tap, 'netns', this.ns]);
    const ip = (...args: string[]) => run('ip', ['-n', this.ns, ...args]);
    await ip('addr', 'add', `${this.hostIp}/${this.prefix}`, 'brd', '+', 'dev', this.tap);
    await ip('link', 'set', this.tap, 'up');
    await ip('link', 'set', 'lo', 'up');
  }
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}
