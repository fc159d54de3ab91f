// The transport's ceiling for the bench: a bare grpc-js bidi stream (no protobuf, no ring, no disk) with
// the channel options of the ring streams. A 16-byte message asks for that many bytes back (a read);
// anything else is a write, answered with 16 bytes. Usage: node raw-server.mjs <port>; prints "ready".
import * as grpc from '@grpc/grpc-js';
import { RING_CHANNEL_OPTIONS } from '@dominion/ringstream';

const ack = Buffer.alloc(16);
const replies = new Map();
const reply = (n) => {
  let b = replies.get(n);
  if (!b) replies.set(n, (b = Buffer.alloc(n, 0xa5)));
  return b;
};
const server = new grpc.Server(RING_CHANNEL_OPTIONS);
server.addService(
  {
    Stream: {
      path: '/bench.Raw/Stream',
      requestStream: true,
      responseStream: true,
      requestDeserialize: (b) => b,
      responseSerialize: (b) => b,
    },
  },
  {
    Stream: (call) => {
      call.on('data', (m) => call.write(m.length === 16 ? reply(m.readUInt32LE(0)) : ack));
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
  },
);
server.bindAsync(`127.0.0.1:${process.argv[2]}`, grpc.ServerCredentials.createInsecure(), (e) => {
  if (e) throw e;
  console.log('ready');
});
