// The ring contract as a gRPC client or server loads it: one bidirectional method, and the field names and
// types the ringstream binding relies on, checked by a real encode/decode through protobufjs.
import { existsSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import * as protoLoader from '@grpc/proto-loader';
import { RING_METHOD, RING_PROTO_LOADER_OPTIONS, RING_SERVICE, protoPath } from '../src/index.js';

const def = protoLoader.loadSync(protoPath('ring'), { ...RING_PROTO_LOADER_OPTIONS });

describe('ring.proto', () => {
  it('sits at the package root, where both src/ and dist/ find it', () => {
    expect(protoPath()).toMatch(/libs\/proto\/ring\.proto$/);
    expect(existsSync(protoPath())).toBe(true);
  });

  it('has one bidirectional Connect method on dominion.ring.v1.Ring', () => {
    const svc = def[RING_SERVICE] as protoLoader.ServiceDefinition;
    expect(Object.keys(svc)).toEqual([RING_METHOD]);
    const m = svc[RING_METHOD];
    expect(m.path).toBe('/dominion.ring.v1.Ring/Connect');
    expect(m.requestStream).toBe(true);
    expect(m.responseStream).toBe(true);
  });

  it('round-trips a request batch with grant copies, u32 indices and ms timestamps', () => {
    const m = (def[RING_SERVICE] as protoLoader.ServiceDefinition)[RING_METHOD];
    const req = Buffer.alloc(112, 0xab);
    const bytes = m.requestSerialize({
      requests: {
        reqProd: 0xffffffff,
        requests: [{ req, copies: [{ ref: 8, offset: 512, data: Buffer.from('abc') }] }],
      },
    });
    const back = m.requestDeserialize(bytes) as Record<string, any>;
    expect(back.msg).toBe('requests');
    expect(back.requests.reqProd).toBe(0xffffffff);
    expect(Buffer.compare(back.requests.requests[0].req, req)).toBe(0);
    expect(back.requests.requests[0].copies[0]).toEqual({ ref: 8, offset: 512, data: Buffer.from('abc') });

    const ch = m.responseDeserialize(
      m.responseSerialize({
        challenge: { backend: 1, device: '/d', ringRef: 8, frontend: 5, expiresAt: 1_800_000_000_000, nonce: 'n' },
      }),
    ) as Record<string, any>;
    expect(ch.msg).toBe('challenge');
    expect(ch.challenge.expiresAt).toBe(1_800_000_000_000);
  });

  it('encodes field numbers as the contract says (hand-written protobuf bytes)', () => {
    const m = (def[RING_SERVICE] as protoLoader.ServiceDefinition)[RING_METHOD];
    // FrontMessage.proof (field 2, length-delimited: 0x12) { sig (field 1: 0x0a) = "xy" }
    expect(Buffer.from(m.requestSerialize({ proof: { sig: 'xy' } })).toString('hex')).toBe('1204' + '0a027879');
    // BackMessage.connected (field 2: 0x12) { ring_size (1, varint: 0x08) = 32, backend (2: 0x10) = 1 }
    expect(Buffer.from(m.responseSerialize({ connected: { ringSize: 32, backend: 1 } })).toString('hex')).toBe(
      '1204' + '0820' + '1001',
    );
  });
});
