// ZvolBackend dials the ZFS domain's block service with the TLS of DOMINION_GRPC_TLS_*: against a TLS
// server (runtime's startGrpcServer, certificates from a throwaway openssl CA) the volume opens for a client
// trusting the CA, and neither a plaintext client nor one trusting another CA gets an answer.
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { loadGrpcTls, startGrpcServer, type GrpcHost } from '@dominion/runtime';
import { tempDir } from '@dominion/testing';
import { blockService, ZvolBackend, type WireBlockRequest, type WireBlockResponse } from '../src/index.js';
import { makeTestPki, type TestPki } from '@dominion/testing';

const tmp = tempDir('dominion-zvol-tls-');
let pki: TestPki;
let host: GrpcHost;
let opens = 0;

/** Answers open only: enough to show which clients reach the service. */
function serveOpen(call: grpc.ServerDuplexStream<WireBlockRequest, WireBlockResponse>): void {
  call.on('data', (r: WireBlockRequest) => {
    if (r.op !== 'open' || !r.open) return;
    opens++;
    call.write({
      id: r.id,
      errno: '',
      message: '',
      data: Buffer.alloc(0),
      opened: { volume: r.open.volume, size: 1 << 20, blockSize: 512, readOnly: false },
    });
  });
  call.on('end', () => call.end());
}

beforeAll(async () => {
  execFileSync('openssl', ['version']);
  pki = makeTestPki(tmp.path);
  const tls = loadGrpcTls({ DOMINION_GRPC_TLS_CERT: pki.cert, DOMINION_GRPC_TLS_KEY: pki.key });
  host = await startGrpcServer(
    '127.0.0.1:0',
    [{ service: blockService().service, impl: { Connect: serveOpen } }],
    {},
    tls ?? null,
  );
});

afterAll(async () => {
  await host?.close();
  tmp.remove();
});

const open = (tls: ReturnType<typeof loadGrpcTls> | null) =>
  ZvolBackend.open({ volume: 'tank/vm1', endpoint: host.address, tls, reconnectAttempts: 1, reconnectDelayMs: 10 });

describe('zvol over TLS', () => {
  it('opens for a client trusting the CA; a plaintext client and one trusting another CA are refused', async () => {
    expect(host.tls).toBe(true);
    const good = await open(loadGrpcTls({ DOMINION_GRPC_TLS_CA: pki.ca }));
    expect(good.size).toBe(1 << 20);
    await good.close();
    expect(opens).toBe(1);

    await expect(open(null)).rejects.toMatchObject({ kind: 'ECONNREFUSED' });
    await expect(open(loadGrpcTls({ DOMINION_GRPC_TLS_CA: pki.otherCa }))).rejects.toMatchObject({
      kind: 'ECONNREFUSED',
    });
    expect(opens).toBe(1);
  });
});
