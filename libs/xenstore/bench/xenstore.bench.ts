// XenStore read and write latency over NATS (XenstoreClient, what domains use) and over the xs_wire Unix
// socket (what dom0's tools use), against a raw NATS request/reply between the same connections, in one
// run. Writes are journalled and fdatasync'd before their reply, on the real disk under the OS temp dir.
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NodeFileIO } from '@dominion/fsio';
import { latencyStats, startNatsServer, tempDir, writeBenchResult } from '@dominion/testing';
import { XenstoreClient } from '../src/client/index.js';
import { encodeXsMessage, xsRequest, XsWireParser, type XsMessage, type XsRequest } from '../src/wire/index.js';
import { Xenstored, XsNatsTransport, XsStreamConnection } from '../src/xenstored/index.js';

const READS = Number(process.env.BENCH_N ?? 5000);
const WRITES = Number(process.env.BENCH_WRITES ?? 2000);
const WARMUP = 300;
const ROUNDS = 4;

interface Case {
  name: string;
  op: () => Promise<unknown>;
  n: number;
  note: string;
}

/** A minimal libxenstore: one request in flight, replies matched by arrival. */
class RawSocketClient {
  private readonly parser = new XsWireParser();
  private waiting: ((m: XsMessage) => void) | undefined;
  private reqId = 0;
  private constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      for (const m of this.parser.feed(d)) this.waiting?.(m);
    });
  }
  static async open(path: string): Promise<RawSocketClient> {
    const sock = netConnect(path);
    await new Promise<void>((r, j) => sock.once('connect', () => r()).once('error', j));
    return new RawSocketClient(sock);
  }
  request(r: XsRequest): Promise<XsMessage> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.sock.write(encodeXsMessage({ type: r.type, reqId: ++this.reqId, txId: 0, payload: r.payload }));
    });
  }
  close(): void {
    this.sock.destroy();
  }
}

describe('xenstore', () => {
  it(`read (${READS}) and fsync'd write (${WRITES}) latency over NATS and the Unix socket, vs raw NATS`, async () => {
    const srv = await startNatsServer();
    const tmp = tempDir('xs-bench-');
    const conns: NatsConnection[] = [];
    const bus = async (): Promise<NatsConnection> => {
      const nc = await connect({ servers: srv.url });
      conns.push(nc);
      return nc;
    };
    try {
      const xs = await Xenstored.open({ io: new NodeFileIO(), dir: `${tmp.path}/xenstore` });
      const serverNc = await bus();
      const transport = new XsNatsTransport(xs, serverNc);
      await transport.start();
      const socketPath = `${tmp.path}/xenstored.socket`;
      const server = createServer((sock) => {
        const c = new XsStreamConnection(xs, { write: (b) => sock.write(b), destroy: () => sock.destroy() });
        sock.on('data', (d: Buffer) => c.feed(d));
        sock.on('close', () => c.close());
      });
      await new Promise<void>((r) => server.listen(socketPath, r));

      const clientNc = await bus();
      const client = new XenstoreClient(clientNc, { domid: 0 });
      const raw = await RawSocketClient.open(socketPath);
      await client.write('/bench/r', 'a value of some twenty bytes');

      // Raw NATS: same two connections, a responder that answers at once with a reply of the same size.
      const echo = serverNc.subscribe('bench.echo', {
        callback: (_e, m) => {
          m.respond(m.data);
        },
      });
      await serverNc.flush();
      const rawBody = encodeXsMessage({ type: 2, reqId: 1, txId: 0, payload: Buffer.from('/bench/r\0') });
      const natsBaseline = (): Promise<unknown> => clientNc.request('bench.echo', rawBody, { timeout: 5000 });

      let i = 0;
      const cases: Case[] = [
        {
          name: 'raw NATS request/reply',
          op: natsBaseline,
          n: READS,
          note: 'baseline: echo responder, same connections, same body size',
        },
        { name: 'NATS read', op: () => client.read('/bench/r'), n: READS, note: 'XenstoreClient.read' },
        {
          name: 'socket read',
          op: () => raw.request(xsRequest.read('/bench/r')),
          n: READS,
          note: 'xs_wire over the Unix socket',
        },
        {
          name: 'NATS write',
          op: () => client.write('/bench/w', String(i++)),
          n: WRITES,
          note: 'journalled + fdatasync before the reply',
        },
        {
          name: 'socket write',
          op: () => raw.request(xsRequest.write('/bench/w', String(i++))),
          n: WRITES,
          note: 'journalled + fdatasync before the reply',
        },
      ];
      for (const c of cases) for (let w = 0; w < WARMUP; w++) await c.op();
      // Interleaved rounds, so that a load swing on a shared machine hits every case alike.
      const samples = cases.map(() => ({ lat: [] as number[], elapsed: 0 }));
      for (let round = 0; round < ROUNDS; round++) {
        for (const [k, c] of cases.entries()) {
          const t0 = process.hrtime.bigint();
          for (let j = 0; j < c.n / ROUNDS; j++) {
            const s0 = process.hrtime.bigint();
            await c.op();
            samples[k].lat.push(Number(process.hrtime.bigint() - s0));
          }
          samples[k].elapsed += Number(process.hrtime.bigint() - t0);
        }
      }
      const stats = samples.map((x) => latencyStats(x.lat, x.elapsed));
      const base = stats[0];
      const rows = cases.map((c, k) => ({
        op: c.name,
        ...stats[k],
        ops_vs_raw_nats: Math.round((stats[k].ops_s / base.ops_s) * 100) / 100,
        p50_vs_raw_nats: Math.round((stats[k].p50_us / base.p50_us) * 100) / 100,
        note: c.note,
      }));
      writeBenchResult(
        'xenstore',
        rows,
        `Sequential, one request in flight, ${ROUNDS} interleaved rounds after ${WARMUP} warm-up ops per case. Writes are fsync-bound: each is journalled and fdatasync'd before its reply (concurrent writers share one fdatasync by group commit).`,
      );
      for (const st of stats) expect(st.n).toBeGreaterThan(0);

      echo.unsubscribe();
      raw.close();
      await client.close();
      await new Promise<void>((r) => server.close(() => r()));
      await transport.stop();
      await xs.close();
    } finally {
      for (const nc of conns) await nc.close();
      await srv.stop();
      tmp.remove();
    }
  });
});
