// 9P2000.L as a guest's 9pfs frontend sends it: decodeMessage on one frame, then a P9Session over a
// MemFilesystem fed the whole stream. Every reply the session sends must itself decode.
import { MemFilesystem, P9Error, P9Session, decodeMessage } from '@dominion/p9';
import { bound, expectOwn } from './own-error.mjs';
import { settle } from './settle.mjs';

export async function fuzz(data) {
  expectOwn(P9Error, () => decodeMessage(data));
  if (data.length < 1) return;
  const fs = new MemFilesystem({ capacity: 4 << 20, maxFiles: 1000, now: () => ({ sec: 0, nsec: 0 }) });
  let out = 0;
  let closedWith;
  let eio = 0;
  const undecodable = [];
  const session = new P9Session(
    {
      send(reply) {
        out += reply.length;
        const m = expectOwn(P9Error, () => decodeMessage(reply));
        // Collected, not thrown: the session would swallow an exception from its own send.
        if (m === undefined) undecodable.push(reply.toString('hex').slice(0, 200));
        // linuxErrnoOf answers EIO only for a failure that is not a P9Error: a bug met in a handler.
        if (m?.type === 'Rlerror' && m.ecode === 5) eio++;
      },
      close(reason) {
        closedWith = reason;
      },
    },
    { maxMsize: 65536, exportFor: (aname) => (aname === 'bad' ? undefined : fs), maxFids: 64, maxOpenFiles: 32 },
  );
  const rest = data.subarray(1);
  if (data[0] & 0x80) {
    // As a Linux client sends: one frame (by its size field) at a time, each answered before the next.
    for (let i = 0; i < rest.length;) {
      const size = rest.length - i >= 4 ? rest.readUInt32LE(i) : rest.length - i;
      const n = size >= 4 && size <= rest.length - i ? size : rest.length - i;
      session.receive(rest.subarray(i, i + n));
      i += n;
      await settle(2);
      await session.idle();
    }
  } else {
    // Arbitrary cuts, requests overlapping.
    const step = 1 + (data[0] % 97);
    for (let i = 0; i < rest.length; i += step) {
      session.receive(rest.subarray(i, i + step));
      await settle(2);
    }
  }
  await settle();
  await session.close();
  await settle(2);
  bound(closedWith === undefined || closedWith instanceof P9Error, `session closed with ${closedWith}`);
  bound(undecodable.length === 0, `replies that do not decode: ${undecodable.join(', ')}`);
  bound(eio === 0, `${eio} Rlerror EIO replies (an exception other than P9Error in a handler)`);
  bound(out <= 64 * 1024 * 1024, `${out} bytes of replies`);
}
