// Property tests of the engine against what unprivileged domains may send it: any type, tx_id and payload.
// Every request gets the request's type or XS_ERROR with one of the xsd_errors[] names, never a throw and
// never the engine's own internal failure; and whatever the run did, the store stays one that exports,
// imports and replays from its journal to the same state. Fixed seed; FC_SEED=<n> explores others.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { XS, XSD_ERRORS } from '@dominion/abi';
import { XenstoreEngine, type JournalRecord, type XsConnection } from '../../src/store/index.js';

const RUNS = { numRuns: 200, seed: Number(process.env.FC_SEED ?? 0x5eed) };
const viaJson = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const ERROR_REPLY = new RegExp(`^(${XSD_ERRORS.join('|')})\0$`);

const path = fc.oneof(
  fc.constantFrom(
    '/local/domain/5',
    '/local/domain/5/a',
    '/local/domain/5/a/b',
    '/local/domain/5/device/vbd/51712/state',
    '/local/domain/6/x',
    '/local/domain',
    '/',
    '/tool/xenstored',
    'a',
    'a/b',
    'device/vif/0',
    '@introduceDomain',
    '@releaseDomain',
    '@other',
    '',
    '//a',
    'a/',
    '/local/domain/5/../5/a',
    `/local/domain/5/${'x'.repeat(300)}`,
  ),
  fc.string({ maxLength: 12 }),
);
const field = fc.oneof(
  { weight: 4, arbitrary: path },
  { weight: 2, arbitrary: fc.constantFrom('n5', 'b5', 'r0', 'w6', 'b6', 'n0', 'x1', 'b70000', 'r05') },
  { weight: 2, arbitrary: fc.constantFrom('0', '1', '5', '4294967295', '4294967296', '-1', 'T', 'F', 'tok') },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);
const payload = fc.oneof(
  { weight: 6, arbitrary: fc.array(field, { maxLength: 4 }).map((f) => Buffer.from(f.map((x) => `${x}\0`).join(''))) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(path, fc.uint8Array({ maxLength: 16 }))
      .map(([p, v]) => Buffer.concat([Buffer.from(`${p}\0`), v])),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)) },
);
const type = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...Object.values(XS)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
);
/** `open` picks one of the transactions started so far (by position), `any` is whatever number. */
const tx = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ none: true as const }) },
  { weight: 6, arbitrary: fc.nat().map((open) => ({ open })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }).map((any) => ({ any })) },
);
const fields = (...f: string[]): Buffer => Buffer.from(f.map((x) => `${x}\0`).join(''));
const home = fc.constantFrom('a', 'a/b', 'a/b/c', 'd', 'device/vbd/51712', '/local/domain/5/e', '/local/domain/5');
/** Requests shaped as libxenstore sends them, so that most of them get past the argument checks. */
const wellFormed = fc.oneof(
  fc
    .tuple(fc.constantFrom(XS.XS_READ, XS.XS_MKDIR, XS.XS_RM, XS.XS_DIRECTORY, XS.XS_GET_PERMS), home)
    .map(([t, p]) => ({ type: t, payload: fields(p) })),
  fc
    .tuple(home, fc.uint8Array({ maxLength: 24 }))
    .map(([p, v]) => ({ type: XS.XS_WRITE, payload: Buffer.concat([fields(p), v]) })),
  fc
    .tuple(home, fc.array(fc.constantFrom('n5', 'b5', 'r5', 'w6', 'r0', 'n6'), { minLength: 1, maxLength: 3 }))
    .map(([p, perms]) => ({ type: XS.XS_SET_PERMS, payload: fields(p, ...perms) })),
  fc
    .tuple(fc.constantFrom(XS.XS_WATCH, XS.XS_UNWATCH), home, fc.constantFrom('t1', 't2'))
    .map(([t, p, tok]) => ({ type: t, payload: fields(p, tok) })),
  fc
    .tuple(home, fc.nat({ max: 40 }))
    .map(([p, off]) => ({ type: XS.XS_DIRECTORY_PART, payload: fields(p, String(off)) })),
  fc.constant({ type: XS.XS_TRANSACTION_START, payload: fields('') }),
  fc.constantFrom('T', 'F').map((c) => ({ type: XS.XS_TRANSACTION_END, payload: fields(c) })),
);
const request = fc
  .record({
    guest: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }),
    tx,
    message: fc.oneof({ weight: 3, arbitrary: wellFormed }, { weight: 2, arbitrary: fc.record({ type, payload }) }),
  })
  .map(({ guest, tx: t, message }) => ({ guest, tx: t, ...message }));

interface Setup {
  engine: XenstoreEngine;
  guests: XsConnection[];
}

/** Domain 5 introduced with its home; domain 6 connected but never introduced. */
function setup(): Setup {
  const engine = new XenstoreEngine();
  const dom0 = engine.connect(0);
  for (const [t, p] of [
    [XS.XS_INTRODUCE, '5\0' + '4660\0' + '1\0'],
    [XS.XS_MKDIR, '/local/domain/5\0'],
    [XS.XS_SET_PERMS, '/local/domain/5\0' + 'n5\0'],
  ] as const) {
    expect(dom0.handle(t, 0, Buffer.from(p)).reply.payload.toString()).toBe('OK\0');
  }
  dom0.close();
  return { engine, guests: [engine.connect(5), engine.connect(6)] };
}

describe('XenstoreEngine under arbitrary unprivileged requests', () => {
  it('answers each with its type or an xsd error name, and keeps a store that exports and replays alike', () => {
    fc.assert(
      fc.property(fc.array(request, { maxLength: 60 }), (reqs) => {
        const { engine, guests } = setup();
        expect(guests.every((g) => !g.privileged)).toBe(true);
        const before = viaJson(engine.exportState());
        const journal: JournalRecord[] = [];
        const started: number[] = [];
        for (const r of reqs) {
          const txId =
            'none' in r.tx ? 0 : 'any' in r.tx ? r.tx.any : started.length ? started[r.tx.open % started.length] : 0;
          const out = guests[r.guest].handle(r.type, txId, r.payload);
          if (out.reply.type === XS.XS_ERROR) {
            expect(out.reply.payload.toString('latin1')).toMatch(ERROR_REPLY);
            expect(out.detail ?? '').not.toContain('internal error');
            expect(out.journal).toEqual([]);
          } else {
            expect(out.reply.type).toBe(r.type);
            if (r.type === XS.XS_TRANSACTION_START)
              started.push(Number(out.reply.payload.toString('latin1', 0, out.reply.payload.length - 1)));
            if (r.type === XS.XS_TRANSACTION_END) started.splice(started.indexOf(txId), 1);
            if (r.type === XS.XS_RESET_WATCHES) started.length = 0;
          }
          journal.push(...viaJson(out.journal));
        }
        const after = viaJson(engine.exportState());
        expect(viaJson(XenstoreEngine.importState(after).exportState())).toEqual(after);
        const replayed = XenstoreEngine.importState(before);
        for (const rec of journal) replayed.applyJournal(rec);
        expect(viaJson(replayed.exportState())).toEqual(after);
      }),
      RUNS,
    );
  });
});
