// The hand-written ring message codec against protobufjs loading libs/proto's ring.proto (an independent
// implementation of the same contract), both ways, plus hand-written bytes and malformed input.
import { describe, expect, it } from '@jest/globals';
import * as protoLoader from '@grpc/proto-loader';
import {
  RING_METHOD,
  RING_PROTO_LOADER_OPTIONS,
  RING_SERVICE,
  protoPath,
  type WireBackMessage,
  type WireFrontMessage,
} from '@dominion/proto';
import { decodeBackMessage, decodeFrontMessage, encodeBackMessage, encodeFrontMessage } from '../src/index.js';

const pb = (
  protoLoader.loadSync(protoPath('ring'), { ...RING_PROTO_LOADER_OPTIONS })[
    RING_SERVICE
  ] as protoLoader.ServiceDefinition
)[RING_METHOD];

/** protobufjs's object for comparison: Buffers as hex, so that views and copies compare equal. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, plain(x)]));
  return v;
}

let seed = 7;
function rand(n: number): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed % n;
}
function bytes(n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => rand(256)));
}
function copies(n: number) {
  return Array.from({ length: n }, () => ({
    ref: rand(3) === 0 ? 0xffffffff : rand(40000),
    offset: rand(4096),
    data: bytes(rand(3) === 0 ? 0 : rand(600)),
  }));
}

const fronts: WireFrontMessage[] = [
  {
    msg: 'hello',
    hello: {
      device: '/local/domain/1/backend/vbd/5/51712',
      ringRef: 8,
      frontendDomid: 5,
      queue: 3,
      protocol: 'x86_64-abi',
    },
  },
  { msg: 'hello', hello: { device: 'dévice ✓', ringRef: 0xffffffff, frontendDomid: 0, queue: 0, protocol: '' } },
  { msg: 'proof', proof: { sig: 'A'.repeat(86) } },
  { msg: 'requests', requests: { reqProd: 0, requests: [] } },
  ...Array.from({ length: 20 }, (): WireFrontMessage => {
    const n = rand(12);
    return {
      msg: 'requests',
      requests: {
        reqProd: rand(2) ? 0xffffffff - rand(5) : rand(100),
        requests: Array.from({ length: n }, () => ({ req: bytes(rand(2) ? 112 : 0), copies: copies(rand(5)) })),
      },
    };
  }),
];

const backs: WireBackMessage[] = [
  {
    msg: 'challenge',
    challenge: {
      backend: 1,
      device: '/local/domain/1/backend/vbd/5/51712',
      ringRef: 8,
      frontend: 5,
      expiresAt: 1_800_000_000_123,
      nonce: 'n'.repeat(43),
    },
  },
  { msg: 'connected', connected: { ringSize: 32, backend: 1 } },
  { msg: 'connected', connected: { ringSize: 0, backend: 0 } },
  ...Array.from({ length: 20 }, (): WireBackMessage => ({
    msg: 'responses',
    responses: {
      rspProd: rand(1 << 30) * 4,
      responses: Array.from({ length: rand(12) }, () => ({ rsp: bytes(16), copies: copies(rand(4)) })),
    },
  })),
];

describe('ring message codec', () => {
  it('front messages: ours decode with protobufjs, and protobufjs bytes decode with ours, unchanged', () => {
    for (const m of fronts) {
      expect(plain(pb.requestDeserialize(encodeFrontMessage(m)))).toEqual(plain(m));
      expect(plain(decodeFrontMessage(pb.requestSerialize(m)))).toEqual(plain(m));
    }
  });

  it('back messages: ours decode with protobufjs, and protobufjs bytes decode with ours, unchanged', () => {
    for (const m of backs) {
      expect(plain(pb.responseDeserialize(encodeBackMessage(m)))).toEqual(plain(m));
      expect(plain(decodeBackMessage(pb.responseSerialize(m)))).toEqual(plain(m));
    }
  });

  it('encodes a request batch as hand-written protobuf', () => {
    const m: WireFrontMessage = {
      requests: {
        reqProd: 300,
        requests: [{ req: Buffer.from([0xaa, 0xbb]), copies: [{ ref: 8, offset: 512, data: Buffer.from([1]) }] }],
      },
    };
    const hex = [
      '1a 13', // FrontMessage.requests (field 3, LEN), 19 bytes
      '08 ac02', // RequestBatch.req_prod (1, varint) = 300
      '12 0e', // RequestBatch.requests (2, LEN), 14 bytes
      '0a 02 aabb', // Request.req (1, LEN) = aa bb
      '12 08', // Request.copies (2, LEN), 8 bytes
      '08 08', // GrantCopy.ref (1, varint) = 8
      '10 8004', // GrantCopy.offset (2, varint) = 512
      '1a 01 01', // GrantCopy.data (3, LEN) = 01
    ]
      .join('')
      .replace(/ /g, '');
    expect(encodeFrontMessage(m).toString('hex')).toBe(hex);
  });

  it('skips fields it does not know, as protobuf requires', () => {
    // Connected { ring_size = 32, field 9 (varint) = 5, field 10 (LEN) = "zz", backend = 1 }; then top-level field 7 (fixed32)
    const buf = Buffer.from('12' + '0a' + '0820' + '4805' + '52027a7a' + '1001' + '3d' + '01020304', 'hex');
    expect(decodeBackMessage(buf)).toEqual({ msg: 'connected', connected: { ringSize: 32, backend: 1 } });
  });

  it('returns bytes fields as views of the message, not copies', () => {
    const buf = encodeBackMessage({ responses: { rspProd: 1, responses: [{ rsp: Buffer.alloc(16, 7), copies: [] }] } });
    const m = decodeBackMessage(buf);
    if (!('responses' in m)) throw new Error('not responses');
    expect(m.responses.responses[0].rsp.buffer).toBe(buf.buffer);
  });

  it('refuses malformed bytes with EPROTO naming where', () => {
    const good = encodeFrontMessage({ proof: { sig: 'abc' } });
    expect(() => decodeFrontMessage(good.subarray(0, good.length - 1))).toThrow(/overruns the message at byte 2/);
    expect(() => decodeFrontMessage(Buffer.from('ffffffffffffffffffffff', 'hex'))).toThrow(
      /varint longer than 10 bytes/,
    );
    expect(() => decodeFrontMessage(Buffer.from('0b', 'hex'))).toThrow(/field 1 has wire type 3, not 2/);
    expect(() => decodeFrontMessage(Buffer.alloc(0))).toThrow(/none of hello, proof, requests/);
    expect(() => decodeFrontMessage(Buffer.from('1203ff', 'hex'))).toThrow(/overruns/);
    expect(() => decodeFrontMessage(Buffer.from('12030a01ff', 'hex'))).toThrow(/string is not UTF-8/);
    let err: unknown;
    try {
      decodeFrontMessage(Buffer.from('1a', 'hex'));
    } catch (e) {
      err = e;
    }
    expect((err as { kind?: string } | undefined)?.kind).toBe('EPROTO');
  });

  it('refuses to encode values that do not fit their fields', () => {
    expect(() => encodeFrontMessage({ requests: { reqProd: 2 ** 32, requests: [] } })).toThrow(
      /producer index: 4294967296 is not a u32/,
    );
    expect(() =>
      encodeBackMessage({
        responses: {
          rspProd: 0,
          responses: [{ rsp: Buffer.alloc(1), copies: [{ ref: -1, offset: 0, data: Buffer.alloc(0) }] }],
        },
      }),
    ).toThrow(/grant copy ref: -1 is not a u32/);
  });
});
