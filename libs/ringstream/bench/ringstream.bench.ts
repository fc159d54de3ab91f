// The ring path (FrontRing -> gRPC stream -> BackRing and back, with grants, grant copies and the proof of
// identity) against a raw grpc-js bidirectional stream of the same payloads, in one run, in one process,
// on 127.0.0.1. Raw: the client writes payload-sized Buffers (writes) or small requests answered with
// payload-sized Buffers (reads), with no protobuf at all: the transport's ceiling. Ring: requests of 4 KiB
// pages granted to the backend, the bytes travelling as grant copies. Closed loop at depth 1 and 32.
import { describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import { createUser } from '@nats-io/nkeys';
import { XEN_PAGE_SIZE } from '@dominion/abi';
import { seedText } from '@dominion/identity';
import { FrontRing, GrantTable, type GrantSpan } from '@dominion/ring';
import { latencyStats, round, writeBenchResult, type LatencyStats } from '@dominion/testing';
import { RING_CHANNEL_OPTIONS, RingFrontStream, addRingService, type RingCodec } from '../src/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 0.5);
/** Raw and ring alternate this many times per case; the best of each counts (a shared box is noisy). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Runs only the cases whose name contains this, e.g. "write 4KiB". */
const ONLY = process.env.BENCH_ONLY ?? '';
const RAW = process.env.BENCH_RAW !== '0';
const WARMUP_MS = 200;
const RING_SIZE = 32;
const BACKEND = 1;
const FRONTEND = 5;
const DEVICE = `/local/domain/${BACKEND}/backend/vbd/${FRONTEND}/51712`;

type Dir = 'read' | 'write';

/** A request naming its op and the grant refs of its pages, like blkif segments (or indirect pages). */
interface BenchReq {
  id: number;
  write: boolean;
  refs: number[];
}
interface BenchRsp {
  id: number;
  status: number;
}

const CODEC: RingCodec<BenchReq, BenchRsp> = {
  protocol: 'bench',
  requestId: (r) => r.id,
  responseId: (r) => r.id,
  encodeRequest(r) {
    const b = Buffer.alloc(8 + 4 * r.refs.length);
    b.writeUInt32LE(r.id, 0);
    b.writeUInt16LE(r.write ? 1 : 0, 4);
    b.writeUInt16LE(r.refs.length, 6);
    r.refs.forEach((ref, i) => b.writeUInt32LE(ref, 8 + 4 * i));
    return b;
  },
  decodeRequest(u) {
    const b = Buffer.from(u.buffer, u.byteOffset, u.byteLength);
    const n = b.readUInt16LE(6);
    return {
      id: b.readUInt32LE(0),
      write: b.readUInt16LE(4) === 1,
      refs: Array.from({ length: n }, (_, i) => b.readUInt32LE(8 + 4 * i)),
    };
  },
  encodeResponse(r) {
    const b = Buffer.alloc(8);
    b.writeUInt32LE(r.id, 0);
    b.writeInt32LE(r.status, 4);
    return b;
  },
  decodeResponse(u) {
    const b = Buffer.from(u.buffer, u.byteOffset, u.byteLength);
    return { id: b.readUInt32LE(0), status: b.readInt32LE(4) };
  },
};

interface Result extends LatencyStats {
  mib_s: number;
  /** Process CPU time (user + system) per op: both ends run in this process, so this is the path's cost. */
  cpu_us_op: number;
}

/** `depth` workers each looping over `op` for SECONDS after a warm-up. */
async function closedLoop(depth: number, bytes: number, op: (worker: number) => Promise<void>): Promise<Result> {
  const warmEnd = Date.now() + WARMUP_MS;
  await Promise.all(
    Array.from({ length: depth }, async (_, w) => {
      while (Date.now() < warmEnd) await op(w);
    }),
  );
  const lat: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const end = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: depth }, async (_, w) => {
      while (Date.now() < end) {
        const s = process.hrtime.bigint();
        await op(w);
        lat.push(Number(process.hrtime.bigint() - s));
      }
    }),
  );
  const elapsed = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  const stats = latencyStats(lat, elapsed);
  return {
    ...stats,
    mib_s: round((lat.length * bytes) / (1 << 20) / (elapsed / 1e9)),
    cpu_us_op: round((cpu.user + cpu.system) / lat.length),
  };
}

function best(a: Result | undefined, b: Result): Result {
  return a && a.ops_s >= b.ops_s ? a : b;
}

async function bind(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
}

const passthrough = {
  path: '/bench.Raw/Stream',
  requestStream: true,
  responseStream: true,
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
} satisfies grpc.MethodDefinition<Buffer, Buffer>;

/** Raw bidi stream: replies in order, so a FIFO matches them to requests. */
async function rawCase(dir: Dir, bytes: number, depth: number): Promise<Result> {
  const big = Buffer.alloc(bytes, 0x5a);
  const small = Buffer.alloc(16, 1);
  const server = new grpc.Server(RING_CHANNEL_OPTIONS);
  server.addService(
    { Stream: passthrough },
    {
      Stream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        call.on('data', () => call.write(dir === 'read' ? big : small));
        call.on('end', () => call.end());
      },
    },
  );
  const port = await bind(server);
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), RING_CHANNEL_OPTIONS);
  const call = client.makeBidiStreamRequest(
    passthrough.path,
    passthrough.requestSerialize,
    passthrough.responseDeserialize,
  );
  const fifo: Array<() => void> = [];
  call.on('error', () => undefined); // the cancel at the end
  call.on('data', (b: Buffer) => {
    if (b.length !== (dir === 'read' ? bytes : 16)) throw new Error(`raw reply of ${b.length} bytes`);
    fifo.shift()!();
  });
  try {
    return await closedLoop(
      depth,
      bytes,
      () =>
        new Promise<void>((resolve) => {
          fifo.push(resolve);
          call.write(dir === 'write' ? big : small);
        }),
    );
  } finally {
    call.end();
    client.close();
    server.forceShutdown();
  }
}

async function ringCase(dir: Dir, bytes: number, depth: number): Promise<Result> {
  const dom5 = createUser();
  const pages = Math.max(1, bytes / XEN_PAGE_SIZE);
  const source = Buffer.alloc(XEN_PAGE_SIZE, 0xa5);
  const server = new grpc.Server(RING_CHANNEL_OPTIONS);
  addRingService<BenchReq, BenchRsp>(server, {
    backend: BACKEND,
    keyOf: (d) => (d === FRONTEND ? dom5.getPublicKey() : undefined),
    authorize: () => ({
      size: RING_SIZE,
      codec: CODEC,
      handle: (r) => {
        if (r.req.write) {
          for (const ref of r.req.refs) r.read(ref);
          return { rsp: { id: r.req.id, status: 0 } };
        }
        return {
          rsp: { id: r.req.id, status: 0 },
          copies: r.req.refs.map((ref) => ({ ref, offset: 0, data: source })),
        };
      },
    }),
  });
  const port = await bind(server);
  const grants = new GrantTable();
  const ring = new FrontRing<BenchReq, BenchRsp>({
    size: RING_SIZE,
    backendDomid: BACKEND,
    grants,
    requestId: (r) => r.id,
    responseId: (r) => r.id,
  });
  const stream = new RingFrontStream({
    ring,
    codec: CODEC,
    frontendDomid: FRONTEND,
    seed: seedText(dom5),
    target: { endpoint: `127.0.0.1:${port}`, backend: BACKEND, device: DEVICE, ringRef: 8 },
  }).start();
  await stream.whenConnected();
  // Each worker owns its pages, as a guest's block layer owns its buffers; grants are per request.
  const buffers = Array.from({ length: depth }, () => {
    const b = Buffer.alloc(pages * XEN_PAGE_SIZE, 0x3c);
    return Array.from({ length: pages }, (_, i) => b.subarray(i * XEN_PAGE_SIZE, (i + 1) * XEN_PAGE_SIZE));
  });
  let nextId = 1;
  try {
    const r = await closedLoop(depth, bytes, async (w) => {
      const spans: GrantSpan[] = buffers[w].map((p) => ({ ref: grants.grant(BACKEND, p, dir === 'write') }));
      const rsp = await ring.submit(
        { id: nextId++ >>> 0, write: dir === 'write', refs: spans.map((s) => s.ref) },
        spans,
      );
      if (rsp.status !== 0) throw new Error(`status ${rsp.status}`);
    });
    if (dir === 'read' && buffers[0][0][0] !== 0xa5) throw new Error('read did not fill the granted page');
    return r;
  } finally {
    stream.close();
    server.forceShutdown();
  }
}

describe('ringstream', () => {
  it('ring path vs raw grpc-js bidi stream: 4 KiB and 1 MiB, read and write, depth 1 and 32', async () => {
    const rows: Array<Record<string, unknown>> = [];
    for (const bytes of [4096, 1 << 20]) {
      for (const dir of ['write', 'read'] as const) {
        for (const depth of [1, 32]) {
          const name = `${dir} ${bytes === 4096 ? '4KiB' : '1MiB'} depth ${depth}`;
          if (!name.includes(ONLY)) continue;
          let raw: Result | undefined;
          let ring: Result | undefined;
          for (let r = 0; r < ROUNDS; r++) {
            if (RAW) raw = best(raw, await rawCase(dir, bytes, depth));
            ring = best(ring, await ringCase(dir, bytes, depth));
          }
          if (!ring) continue;
          raw ??= { n: 0, ops_s: NaN, mib_s: NaN, p50_us: NaN, p99_us: NaN, mean_us: NaN, cpu_us_op: NaN };
          rows.push({
            case: name,
            raw_ops_s: raw.ops_s,
            ring_ops_s: ring.ops_s,
            raw_mib_s: raw.mib_s,
            ring_mib_s: ring.mib_s,
            raw_p50_us: raw.p50_us,
            ring_p50_us: ring.p50_us,
            ring_p99_us: ring.p99_us,
            raw_cpu_us_op: raw.cpu_us_op,
            ring_cpu_us_op: ring.cpu_us_op,
            ratio: round(ring.ops_s / raw.ops_s, 2),
            cpu_ratio: round(raw.cpu_us_op / ring.cpu_us_op, 2),
          });
        }
      }
    }
    writeBenchResult(
      'ringstream',
      rows,
      `closed loop, best of ${ROUNDS} alternating rounds of ${SECONDS}s after ${WARMUP_MS}ms warm-up, client and server in one process on 127.0.0.1; ` +
        'raw = grpc-js bidi stream of bare Buffers (no protobuf), ring = RingFrontStream/BackRing with grants; goal ratio >= 0.9',
    );
    expect(rows.length).toBeGreaterThan(0);
  });
});
