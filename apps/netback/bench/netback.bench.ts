// The net path's cost, in one run: the built system (launcher, dom0, netback as a driver domain, two minios
// guests whose netfront is the real apps/guest code, driven through `xl console`), next to what the
// transport can do without it. Measured:
//   - guest -> guest UDP through netback: `nc -u -c` in one guest, `nc -u -l -c` counting in the other,
//     at 64-byte and 1514-byte Ethernet frames (UDP payload 22 and 1472: the smallest frame and an
//     MTU-sized IP packet), as frames/s and Mbit/s of frames the receiver got;
//   - ping round trip guest to guest (the guest's ping), and namespace to guest (the kernel's ping in a
//     network namespace whose TAP is an uplink of xenbr0; root, ip and socat, else left out and said so);
//   - baselines on 127.0.0.1 with the same frames: a raw grpc-js bidi stream (frames as bytes, no
//     protobuf: the transport's ceiling) and a plain UDP relay between two sockets (A -> relay -> B).
// Bounded: a few thousand frames per case, about a minute in all.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import { repoRoot, round, tempDir, waitFor, writeBenchResult } from '@dominion/testing';
import { Netns, netnsUnavailable, sh } from '../test/netns.js';

const FRAMES = Number(process.env.BENCH_FRAMES ?? 5000);
/** Ethernet frame sizes (no FCS) and the UDP payload that makes them: 14 + 20 + 8 bytes of headers. */
const SIZES = [64, 1514].map((frame) => ({ frame, payload: frame - 42 }));
const PINGS = 20;
const root = repoRoot();
const launcherMain = join(root, 'tools', 'launch', 'dist', 'main.js');
const xlMain = join(root, 'apps', 'xl', 'dist', 'main.js');
const netbackCfg = join(root, 'examples', 'netback.cfg');
const PROMPT = 'minios# ';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) =>
    execFile(cmd, args, { env: { ...process.env, ...env } }, (e, stdout, stderr) =>
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr }),
    ),
  );
}

/** A guest's shell through `xl console`: a line typed, its output up to the next prompt. */
class Console {
  private out = '';
  private constructor(private readonly p: ChildProcess) {
    p.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
  }

  static async attach(name: string, env: Record<string, string>): Promise<Console> {
    const c = new Console(spawn(process.execPath, [xlMain, 'console', name], { env: { ...process.env, ...env } }));
    await waitFor(() => c.out.endsWith(PROMPT), 10000, `the prompt of ${name}`);
    return c;
  }

  async run(line: string, timeoutMs = 30000): Promise<string> {
    const from = this.out.length;
    const echo = `${line}\n`;
    this.p.stdin!.write(echo);
    await waitFor(
      () => this.out.length > from + echo.length && this.out.endsWith(PROMPT),
      timeoutMs,
      `"${line}" to finish: ${this.out.slice(from)}`,
    );
    return this.out.slice(from + echo.length, this.out.length - PROMPT.length);
  }

  detach(): void {
    this.p.stdin!.write('\x1d');
  }
}

/** `rtt min/avg/max/mdev = a/b/c/d ms` of a ping summary (iputils' and the guest's). */
function rtt(out: string): { min: number; avg: number; max: number } {
  const m = /rtt min\/avg\/max\/mdev = ([\d.]+)\/([\d.]+)\/([\d.]+)\//.exec(out);
  if (!m) throw new Error(`no rtt in:\n${out}`);
  return { min: Number(m[1]), avg: Number(m[2]), max: Number(m[3]) };
}

function rate(frames: number, frameBytes: number, ms: number) {
  return {
    frames_s: Math.round(frames / (ms / 1000)),
    mbit_s: round((frames * frameBytes * 8) / (ms / 1000) / 1e6, 1),
  };
}

/** Raw grpc-js: a client streams `n` frames of `bytes` to a server that counts them (bytes as bytes). */
async function rawGrpc(n: number, bytes: number): Promise<{ frames: number; ms: number }> {
  const identity = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
  const method: grpc.MethodDefinition<Buffer, Buffer> = {
    path: '/bench.Frames/Stream',
    requestStream: true,
    responseStream: true,
    requestSerialize: identity.serialize,
    requestDeserialize: identity.deserialize,
    responseSerialize: identity.serialize,
    responseDeserialize: identity.deserialize,
  };
  let got = 0;
  let first = 0;
  let last = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const server = new grpc.Server();
  server.addService(
    { Stream: method },
    {
      Stream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        call.on('data', () => {
          last = performance.now();
          if (got++ === 0) first = last;
          if (got === n) {
            done();
            call.end();
          }
        });
      },
    },
  );
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = client.makeBidiStreamRequest(method.path, identity.serialize, identity.deserialize);
  call.on('error', () => undefined);
  const frame = Buffer.alloc(bytes);
  for (let i = 0; i < n; i++) {
    if (!call.write(frame)) await new Promise((r) => call.once('drain', r));
  }
  await finished;
  call.end();
  client.close();
  server.forceShutdown();
  return { frames: got, ms: last - first };
}

/** A -> relay -> B over UDP on 127.0.0.1, A sending as the guest's load does (a yield every 16). */
async function udpRelay(n: number, bytes: number): Promise<{ frames: number; ms: number }> {
  const open = (): Promise<Socket> =>
    new Promise((r) => {
      const s = createSocket('udp4');
      s.bind(0, '127.0.0.1', () => r(s));
    });
  const [a, relay, b] = [await open(), await open(), await open()];
  const bPort = b.address().port;
  relay.on('message', (m) => relay.send(m, bPort, '127.0.0.1'));
  let got = 0;
  let first = 0;
  let last = 0;
  let idle: NodeJS.Timeout | undefined;
  const finished = new Promise<void>((done) => {
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(done, 1000);
    };
    b.on('message', () => {
      last = performance.now();
      if (got++ === 0) first = last;
      if (got === n) done();
      else arm();
    });
    arm();
  });
  const frame = Buffer.alloc(bytes);
  const to = relay.address().port;
  for (let i = 0; i < n; i++) {
    a.send(frame, to, '127.0.0.1');
    if (i % 16 === 15) await new Promise((r) => setImmediate(r));
  }
  await finished;
  clearTimeout(idle);
  for (const s of [a, relay, b]) s.close();
  return { frames: got, ms: last - first };
}

describe('netback: guest to guest through the net driver domain, beside the bare transports', () => {
  const home = tempDir('dominion-bench-netback-');
  const env = { DOMINION_HOME: home.path, DOMINION_NATS_URL: '' };
  const noNetns = netnsUnavailable();
  const suffix = Math.random().toString(36).slice(2, 6);
  const tap = `nbbt${suffix}`;
  let ns: Netns | undefined;
  let launcher: ChildProcess;
  let output = '';
  const con: Record<string, Console> = {};
  const xl = (...args: string[]) => run(process.execPath, [xlMain, ...args], env);

  beforeAll(async () => {
    launcher = spawn(process.execPath, [launcherMain], {
      env: {
        ...process.env,
        DOMINION_HOME: home.path,
        DOMINION_NATS_PORT: '0',
        DOMINION_LOG_LEVEL: 'warn',
        // dom0 hands its environment to the driver domains it launches: netback's TAP uplink on xenbr0
        ...(noNetns ? {} : { DOMINION_NETBACK_UPLINKS: `xenbr0:tap:${tap},down` }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launcher.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    launcher.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(() => output.includes('Dominion is up.'), 20000, `the launcher to come up:\n${output}`);
    expect(await xl('create', netbackCfg)).toMatchObject({ code: 0 });
    for (const [name, ip] of [
      ['ga', '10.0.0.1'],
      ['gb', '10.0.0.2'],
    ]) {
      const cfg = join(home.path, `${name}.cfg`);
      writeFileSync(cfg, `name = "${name}"\nmemory = 32\nvif = [ 'bridge=xenbr0, ip=${ip}' ]\n`);
      expect(await xl('create', cfg)).toMatchObject({ code: 0 });
      await waitFor(
        async () => / {5}4 /.test((await xl('network-list', name)).stdout.split('\n')[1] ?? ''),
        15000,
        `the vif of ${name} to connect`,
      );
      con[name] = await Console.attach(name, env);
    }
    if (!noNetns) {
      await waitFor(() => existsSync(`/sys/class/net/${tap}`), 10000, `netback's TAP ${tap}`);
      ns = await Netns.create(`nbb${suffix}`);
      await ns.adoptTap(tap, '10.0.0.100/24');
    }
  }, 120000);

  afterAll(async () => {
    for (const c of Object.values(con)) c.detach();
    await ns?.close();
    if (existsSync(`/sys/class/net/${tap}`)) await sh('ip', ['link', 'del', tap]);
    if (launcher) {
      const exited = new Promise((r) => launcher.once('exit', r));
      launcher.kill('SIGINT');
      await exited;
    }
    home.remove();
  });

  it('measures UDP throughput and ping round trips', async () => {
    const rows: Array<Record<string, unknown>> = [];
    for (const { frame, payload } of SIZES) {
      // warm-up: ARP resolved, JIT warm
      await con.ga.run(`nc -u -c 200 -s ${payload} 10.0.0.2 5000`);
      const counting = con.gb.run(`nc -u -l -c ${FRAMES} -w 2 5001`, 60000);
      await new Promise((r) => setTimeout(r, 200)); // the receiver's port is bound
      const sent = await con.ga.run(`nc -u -c ${FRAMES} -s ${payload} 10.0.0.2 5001`, 60000);
      const got = /received (\d+) datagrams, (\d+) bytes in ([\d.]+) ms/.exec(await counting);
      expect(got).not.toBeNull();
      const frames = Number(got![1]);
      const ms = Number(got![3]);
      expect(frames).toBeGreaterThan(0);
      const sentMs = Number(/in ([\d.]+) ms/.exec(sent)![1]);
      rows.push({
        path: 'guest -> netback -> guest (netfront, ring streams, xenbr0)',
        frame_bytes: frame,
        sent: FRAMES,
        received: frames,
        ...rate(frames, frame, ms),
        sender_ms: sentMs,
      });
      const g = await rawGrpc(FRAMES, frame);
      rows.push({
        path: 'raw grpc-js bidi stream (127.0.0.1)',
        frame_bytes: frame,
        sent: FRAMES,
        received: g.frames,
        ...rate(g.frames, frame, g.ms),
      });
      const u = await udpRelay(FRAMES, frame);
      rows.push({
        path: 'UDP relay A -> relay -> B (127.0.0.1)',
        frame_bytes: frame,
        sent: FRAMES,
        received: u.frames,
        ...rate(u.frames, frame, u.ms),
      });
    }
    const g2g = rtt(await con.ga.run(`ping -c ${PINGS} -i 0.02 10.0.0.2`));
    rows.push({
      path: 'ping guest -> guest',
      count: PINGS,
      rtt_min_ms: g2g.min,
      rtt_avg_ms: g2g.avg,
      rtt_max_ms: g2g.max,
    });
    let notes = `${FRAMES} frames per case; frame_bytes is the Ethernet frame without FCS (UDP payload = frame - 42).`;
    if (ns) {
      const r = await ns.exec(['ping', '-c', String(PINGS), '-i', '0.02', '-q', '10.0.0.1'], 30000);
      expect(r.code).toBe(0);
      const n2g = rtt(r.stdout);
      rows.push({
        path: 'ping namespace (TAP uplink) -> guest',
        count: PINGS,
        rtt_min_ms: n2g.min,
        rtt_avg_ms: n2g.avg,
        rtt_max_ms: n2g.max,
      });
    } else {
      notes += ` Namespace -> guest ping left out: ${noNetns}.`;
    }
    const log = join(home.path, 'dom0', 'logs', 'netback.log');
    if (existsSync(log) && /"level":50/.test(readFileSync(log, 'utf8')))
      notes += ' netback logged errors during the run.';
    writeBenchResult('netback', rows, notes);
  }, 180000);
});
