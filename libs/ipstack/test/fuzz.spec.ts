// Damaged frames never raise out of receive() and never wedge the stack: after thousands of mutations of
// real captured frames (seeded, so a failure replays), a clean ping still gets its answer.
import { IpStack } from '../src/index.js';
import { ARP_REQUEST, ECHO_2000_FRAG1, ECHO_2000_FRAG2, ECHO_REQUEST } from './fixtures/linux-capture.js';

/** xorshift32: a deterministic stream for the mutations. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

it('survives 20000 mutated frames and still answers a ping', () => {
  const sent: Buffer[] = [];
  const stack = new IpStack({ mac: '02:00:0a:4d:09:02', ipv4: '10.77.9.2', send: (f) => sent.push(f) });
  stack.up();
  stack.udpBind(7, () => undefined);
  const seeds = [ARP_REQUEST, ECHO_REQUEST, ECHO_2000_FRAG1, ECHO_2000_FRAG2];
  const rand = rng(0x1dea);
  for (let i = 0; i < 20000; i++) {
    const base = seeds[i % seeds.length];
    // Keep the destination MAC (so the frame gets past the filter) and damage the rest.
    const f = Buffer.from(base.subarray(0, Math.max(6, Math.floor(rand() * (base.length + 8)))));
    if (i % 4 === 0) f.set([0x02, 0x00, 0x0a, 0x4d, 0x09, 0x02], 0);
    const flips = 1 + Math.floor(rand() * 4);
    for (let k = 0; k < flips; k++) {
      const at = 6 + Math.floor(rand() * Math.max(1, f.length - 6));
      if (at < f.length) f[at] = Math.floor(rand() * 256);
    }
    try {
      stack.receive(f);
    } catch (e) {
      throw new Error(`frame ${i} (${f.toString('hex')}) raised: ${String(e)}`, { cause: e });
    }
  }
  const l = stack.counters.link;
  expect(l.rxPackets).toBe(20000);
  expect(l.rxErrors + l.rxDropped).toBeGreaterThan(1000);
  sent.length = 0;
  stack.receive(
    Buffer.from('02000a4d090202000a4d09010806000108000604000202000a4d09010a4d090102000a4d09020a4d0902', 'hex'),
  );
  stack.receive(ECHO_REQUEST);
  expect(sent.some((f) => f.length === 98 && f[34] === 0 /* echo reply */)).toBe(true);
  stack.close();
});
