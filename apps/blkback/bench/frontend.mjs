// The bench's guest: a blkfront in its own process (no Jest in it), over the built libraries. It runs the
// xenbus handshake for one vbd (granted ring page, real event channel, protocol), dials the grpc-endpoint
// blkback published (re-read before every dial, so a restarted blkback is found again) and issues blkif
// requests with fio's job parameters: 4 KiB as one direct segment, 1 MiB as an indirect request of 256
// segments, the data pages granted per request as a guest's block layer grants them. It also drives the
// raw grpc-js bidi stream of the same message sizes (the transport's ceiling) against raw-server.mjs.
// Configuration in the environment (BENCH_*); commands as JSON lines on stdin, one JSON line back each.
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { connect } from '@nats-io/transport-node';
import { BLKIF_OP, BLKIF_RING_IDS, blkifRingCodec, blkifRingSize, encodeIndirectSegments } from '@dominion/blkif';
import { HypervisorClient } from '@dominion/hypervisor';
import { FrontRing, GrantTable } from '@dominion/ring';
import { RING_CHANNEL_OPTIONS, RingFrontStream } from '@dominion/ringstream';
import { XenbusFrontend } from '@dominion/xenbus';
import { XenstoreClient } from '@dominion/xenstore';

const PAGE = 4096;
const SECTOR = 512;
const env = process.env;
const domid = Number(env.BENCH_DOMID);
const backendDomid = Number(env.BENCH_BACKEND_DOMID);
const frontDir = env.BENCH_FRONTEND_DIR;
const backDir = env.BENCH_BACKEND_DIR;
const devid = Number(env.BENCH_DEVID);
const fileBytes = Number(env.BENCH_FILE_BYTES);

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const now = () => process.hrtime.bigint();

const nc = await connect({ servers: env.BENCH_NATS_URL });
const xs = new XenstoreClient(nc, { domid, onError: () => undefined });
const hv = new HypervisorClient(nc, domid);
const grants = new GrantTable();
const ring = new FrontRing({
  size: blkifRingSize(1),
  backendDomid,
  grants,
  ...BLKIF_RING_IDS,
  label: `dom${domid} ${frontDir}`,
});
let ringRef = 0;
let evtchn = 0;
const xb = new XenbusFrontend({
  store: xs,
  path: frontDir,
  handlers: {
    publish: async () => {
      if (ringRef === 0) {
        ringRef = grants.grant(backendDomid, new Uint8Array(PAGE));
        evtchn = await hv.evtchnAllocUnbound(backendDomid);
      }
      return { 'ring-ref': String(ringRef), 'event-channel': String(evtchn), protocol: 'x86_64-abi' };
    },
    connected: () => stream.kick(),
  },
});
const stream = new RingFrontStream({
  ring,
  codec: blkifRingCodec(),
  frontendDomid: domid,
  seed: env.BENCH_SEED,
  target: async () => ({
    endpoint: (await xs.tryRead(`${backDir}/grpc-endpoint`)) ?? '',
    backend: backendDomid,
    device: backDir,
    ringRef,
  }),
  retry: { initialMs: 20, maxMs: 200 },
  onState: (state) => {
    if (state === 'connected') connectedAt = now();
  },
});
/** When the ring stream last reached Connected (a restarted blkback's stream, in the stall). */
let connectedAt = 0n;
await xb.start();
await xb.whenConnected();
stream.start();
await stream.whenConnected();

let nextId = 1n;

/** One blkif request of `bytes` at byte `offset` from `buf` (a worker's own pages). */
function blkif(write, offset, buf) {
  const pages = buf.length / PAGE;
  const spans = [];
  const segments = [];
  for (let i = 0; i < pages; i++) {
    const gref = grants.grant(backendDomid, buf.subarray(i * PAGE, (i + 1) * PAGE), write);
    spans.push({ ref: gref });
    segments.push({ gref, firstSect: 0, lastSect: PAGE / SECTOR - 1 });
  }
  const op = write ? BLKIF_OP.BLKIF_OP_WRITE : BLKIF_OP.BLKIF_OP_READ;
  const id = nextId++;
  const sectorNumber = BigInt(offset / SECTOR);
  if (pages <= 11) {
    return ring.submit({ operation: op, nrSegments: pages, handle: devid, id, sectorNumber, segments }, spans);
  }
  const indirectGrefs = encodeIndirectSegments(segments).map((p) => {
    const gref = grants.grant(backendDomid, p, true);
    spans.push({ ref: gref });
    return gref;
  });
  return ring.submit(
    {
      operation: BLKIF_OP.BLKIF_OP_INDIRECT,
      indirectOp: op,
      nrSegments: pages,
      handle: devid,
      id,
      sectorNumber,
      indirectGrefs,
    },
    spans,
  );
}

/** Where the next request of a job goes: a shared sequential cursor, or a random aligned block. */
function offsets(job) {
  let cursor = 0;
  const blocks = Math.floor(fileBytes / job.bytes);
  return job.random
    ? () => Math.floor(Math.random() * blocks) * job.bytes
    : () => {
        const at = cursor;
        cursor = (cursor + job.bytes) % (blocks * job.bytes);
        return at;
      };
}

/** `depth` workers in a closed loop for rampMs unmeasured, then seconds measured. */
async function closedLoop(depth, seconds, rampMs, op) {
  let errors = 0;
  const lat = [];
  let measuring = false;
  const rampEnd = Date.now() + rampMs;
  let end = rampEnd + seconds * 1000;
  let t0 = 0n;
  const worker = async (w) => {
    while (Date.now() < end) {
      const s = now();
      const ok = await op(w);
      if (!ok) errors++;
      if (measuring) lat.push(Number(now() - s));
      else if (Date.now() >= rampEnd) {
        measuring = true;
        t0 = now();
        end = Date.now() + seconds * 1000;
      }
    }
  };
  await Promise.all(Array.from({ length: depth }, (_, w) => worker(w)));
  const elapsed = Number(now() - t0);
  lat.sort((a, b) => a - b);
  const pick = (q) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] / 1000 : NaN);
  return {
    n: lat.length,
    errors,
    elapsed_s: elapsed / 1e9,
    iops: (lat.length * 1e9) / elapsed,
    p50_us: pick(0.5),
    p99_us: pick(0.99),
    mean_us: lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length) / 1000,
  };
}

function workerBuffers(depth, bytes) {
  return Array.from({ length: depth }, (_, w) => Buffer.alloc(bytes, 0x30 + (w & 0x3f)));
}

async function ringJob({ job, seconds, rampMs }) {
  const bufs = workerBuffers(job.depth, job.bytes);
  const next = offsets(job);
  const reissued = ring.reissued;
  const r = await closedLoop(job.depth, seconds, rampMs, async (w) => {
    const rsp = await blkif(job.write, next(), bufs[w]);
    return rsp.status === 0;
  });
  return { ...r, reissued: ring.reissued - reissued };
}

const passthrough = {
  path: '/bench.Raw/Stream',
  requestSerialize: (b) => b,
  responseDeserialize: (b) => b,
};

/** The same sizes over a bare bidi stream: a write sends the bytes, a read asks for them (16 bytes). */
async function rawJob({ endpoint, job, seconds, rampMs }) {
  const client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), RING_CHANNEL_OPTIONS);
  const call = client.makeBidiStreamRequest(
    passthrough.path,
    passthrough.requestSerialize,
    passthrough.responseDeserialize,
  );
  const fifo = [];
  call.on('error', () => undefined); // the cancel at the end
  call.on('data', (b) => fifo.shift()(b.length === (job.write ? 16 : job.bytes)));
  const big = Buffer.alloc(job.bytes, 0x5a);
  const ask = Buffer.alloc(16);
  ask.writeUInt32LE(job.bytes, 0);
  try {
    return await closedLoop(
      job.depth,
      seconds,
      rampMs,
      () =>
        new Promise((resolve) => {
          fifo.push(resolve);
          call.write(job.write ? big : ask);
        }),
    );
  } finally {
    call.end();
    client.close();
  }
}

/**
 * The restart stall: a write load at `depth` runs until told the kill time; then the time to the first
 * completion after the kill (a re-issued request: the ring re-issues what was in flight first) and to
 * full recovery (completions in a 200 ms window back at 90% of the rate before the kill).
 */
let stall;
function stallStart({ job }) {
  const bufs = workerBuffers(job.depth, job.bytes);
  const next = offsets(job);
  const s = { done: [], errors: 0, running: true, reissued: ring.reissued, connects: stream.connects, workers: [] };
  const worker = async (w) => {
    while (s.running) {
      const rsp = await blkif(true, next(), bufs[w]).catch(() => ({ status: -1 }));
      if (rsp.status !== 0) s.errors++;
      s.done.push(now());
      // Completions on a later stream than the load started on: the first ones are the re-issued requests.
      if (stream.connects > s.connects) s.onNewStream ??= s.done[s.done.length - 1];
    }
  };
  s.workers = Array.from({ length: job.depth }, (_, w) => worker(w));
  stall = s;
  return { started: true };
}

async function stallKilled({ killedAtNs, timeoutMs }) {
  const s = stall;
  const killed = BigInt(killedAtNs);
  const inFlightAtKill = ring.inFlight;
  const WINDOW = 200_000_000n;
  const before = s.done.filter((t) => t <= killed && t > killed - 1_000_000_000n).length;
  const want = Math.max(1, Math.ceil(before * 0.2 * 0.9));
  const deadline = Date.now() + timeoutMs;
  let recovered;
  while (Date.now() < deadline && recovered === undefined) {
    await new Promise((r) => setTimeout(r, 50));
    if (s.onNewStream === undefined) continue;
    const after = s.done.filter((t) => t >= s.onNewStream);
    // The first instant at which the trailing window holds `want` completions.
    for (let i = want - 1; i < after.length; i++) {
      if (after[i] - after[i - want + 1] <= WINDOW) {
        recovered = after[i];
        break;
      }
    }
  }
  s.running = false;
  await Promise.all(s.workers);
  return {
    rate_before_iops: before,
    in_flight_after_kill: inFlightAtKill,
    reissued: ring.reissued - s.reissued,
    reconnects: stream.connects - s.connects,
    errors: s.errors,
    // Responses already on their way when the process died still arrive after the kill; they are not the stall.
    answered_after_kill_on_old_stream: s.done.filter(
      (t) => t > killed && (s.onNewStream === undefined || t < s.onNewStream),
    ).length,
    reconnected_ms: connectedAt > killed ? Number(connectedAt - killed) / 1e6 : null,
    first_completion_ms: s.onNewStream === undefined ? null : Number(s.onNewStream - killed) / 1e6,
    recovered_ms: recovered === undefined ? null : Number(recovered - killed) / 1e6,
  };
}

const commands = { ring: ringJob, raw: rawJob, 'stall-start': stallStart, 'stall-killed': stallKilled };
out({ ready: true, pid: process.pid });
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line);
  if (cmd.cmd === 'quit') break;
  try {
    out({ ok: true, result: await commands[cmd.cmd](cmd) });
  } catch (e) {
    out({ ok: false, error: String(e?.stack ?? e) });
  }
}
stream.close();
await xb.stop().catch(() => undefined);
await xs.close().catch(() => undefined);
await nc.close();
process.exit(0);
