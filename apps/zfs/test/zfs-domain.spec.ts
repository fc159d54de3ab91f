// The ZFS storage domain end to end: the app on a real nats-server and xenstored, zvols written and read
// through libs/zvol's ZvolBackend over real gRPC, the zfs/zpool CLIs against the API, send/receive through
// files as stdin/stdout, scrub progress, a restart that re-imports the pool files, and bad requests that fail
// alone.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { BusError, busRequest, subjects } from '@dominion/bus';
import { waitFor } from '@dominion/testing';
import { blockService, ZvolBackend, type WireBlockRequest, type WireBlockResponse } from '@dominion/zvol';
import { BLOCK_ENDPOINT_KEY } from '../src/index.js';
import type { PoolView } from './types.js';
import { startWorld, ZFS_DOMID, type World } from './world.js';

const MiB = 1 << 20;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('the ZFS storage domain', () => {
  let w: World;
  const backends: ZvolBackend[] = [];
  const endpoint = () => w.dom0.read(`/local/domain/${ZFS_DOMID}/${BLOCK_ENDPOINT_KEY}`);
  const open = async (volume: string, opts: { readOnly?: boolean } = {}) => {
    const b = await ZvolBackend.open({ volume, endpoint, reconnectDelayMs: 50, ...opts });
    backends.push(b);
    return b;
  };
  /** 1 MiB of fresh random bytes at each of `offsets`, written 64 KiB per request, all in flight at once. */
  const writeSpread = async (b: ZvolBackend, offsets: number[]): Promise<Map<number, Buffer>> => {
    const data = new Map(offsets.map((o) => [o, randomBytes(MiB)]));
    await Promise.all(
      [...data].flatMap(([o, buf]) =>
        Array.from({ length: 16 }, (_, i) => b.write(o + i * 65536, buf.subarray(i * 65536, (i + 1) * 65536))),
      ),
    );
    await b.flush();
    return data;
  };

  beforeAll(async () => {
    w = await startWorld('tank:mirror:tank-a.img,tank-b.img:256M');
  });

  afterAll(async () => {
    for (const b of backends) await b.close();
    await w?.stop();
  });

  it('creates its configured pool from files under its directory and publishes the block endpoint', async () => {
    expect(statSync(join(w.dir, 'tank-a.img')).size).toBe(256 * MiB);
    expect(await endpoint()).toBe(w.service.blockEndpoint);
    expect(w.service.blockEndpoint).toMatch(/^127\.0\.0\.1:[0-9]+$/);
  });

  it('answers dom0 and refuses any other caller with EPERM', async () => {
    await expect(busRequest(w.nc, subjects.zfs(5, 'pool-list'), {})).rejects.toMatchObject({
      kind: 'EPERM',
      message: expect.stringMatching(/only the control domain/) as unknown,
    });
    const pools = await busRequest<PoolView[]>(w.nc, subjects.zfs(0, 'pool-list'), {});
    expect(pools.map((p) => p.name)).toEqual(['tank']);
  });

  it('zvol: writes over gRPC, snapshot, clone, and each reads back its own bytes', async () => {
    expect(await w.zfs(['create', '-s', '-V', '64M', '-b', '16K', 'tank/vm1'])).toEqual({ code: 0, out: '', err: '' });
    const vm1 = await open('tank/vm1');
    expect([vm1.size, vm1.blockSize, vm1.readOnly, vm1.sectors]).toEqual([64 * MiB, 16384, false, 131072n]);
    const before = await writeSpread(vm1, [0, 5 * MiB, 63 * MiB]);
    expect((await w.zfs(['snapshot', 'tank/vm1@s1'])).code).toBe(0);
    const after = await writeSpread(vm1, [0, 5 * MiB]);
    expect((await w.zfs(['clone', 'tank/vm1@s1', 'tank/vm2'])).code).toBe(0);

    const vm2 = await open('tank/vm2');
    const snap = await open('tank/vm1@s1');
    for (const [o, buf] of before) {
      expect(sha(await vm2.read(o, MiB))).toBe(sha(buf));
      expect(sha(await snap.read(o, MiB))).toBe(sha(buf));
    }
    for (const [o, buf] of after) expect(sha(await vm1.read(o, MiB))).toBe(sha(buf));
    expect(sha(await vm1.read(63 * MiB, MiB))).toBe(sha(before.get(63 * MiB)!));
    // Writes to the clone leave the origin alone.
    await vm2.write(0, Buffer.alloc(4096, 0xaa));
    expect(sha(await snap.read(0, MiB))).toBe(sha(before.get(0)!));
    expect(snap.readOnly).toBe(true);
    await expect(snap.write(0, Buffer.alloc(512))).rejects.toMatchObject({ kind: 'EROFS' });
    // Discard frees and reads back zeros.
    await vm2.discard(MiB, MiB);
    expect((await vm2.read(MiB, MiB)).equals(Buffer.alloc(MiB))).toBe(true);
  });

  it('prints zfs get, zfs list and zpool status as OpenZFS does', async () => {
    expect(await w.zfs(['get', 'volsize,volblocksize,compression,refreservation', 'tank/vm1', 'tank/vm2'])).toEqual({
      code: 0,
      err: '',
      out: [
        'NAME      PROPERTY        VALUE  SOURCE',
        'tank/vm1  volsize         64M    -',
        'tank/vm1  volblocksize    16K    -',
        'tank/vm1  compression     off    default',
        'tank/vm1  refreservation  none   default',
        'tank/vm2  volsize         64M    -',
        'tank/vm2  volblocksize    16K    -',
        'tank/vm2  compression     off    default',
        'tank/vm2  refreservation  none   default',
        '',
      ].join('\n'),
    });
    expect((await w.zfs(['list', '-t', 'all', '-o', 'name,type,volsize,origin,mountpoint'])).out).toBe(
      [
        'NAME         TYPE        VOLSIZE  ORIGIN       MOUNTPOINT',
        'tank         filesystem        -  -            /tank',
        'tank/vm1     volume          64M  -            -',
        'tank/vm1@s1  snapshot          -  -            -',
        'tank/vm2     volume          64M  tank/vm1@s1  -',
        '',
      ].join('\n'),
    );
    expect((await w.zfs(['list', '-H', '-p', '-o', 'name,volsize', '-t', 'volume'])).out).toBe(
      'tank/vm1\t67108864\ntank/vm2\t67108864\n',
    );
    const dflt = (await w.zfs(['list'])).out.split('\n');
    expect(dflt[0]).toBe('NAME       USED  AVAIL  REFER  MOUNTPOINT');
    expect(dflt[2]).toMatch(/^tank\/vm1 {2}[ 0-9.]{4}[KMG] {2}[ 0-9.]{4}[KMG] {2}[ 0-9.]{4}[KMG] {2}-$/);
    const a = join(w.dir, 'tank-a.img');
    const b = join(w.dir, 'tank-b.img');
    const pad = (n: string, width: number) => n + ' '.repeat(width - n.length);
    const nw = Math.max(10, 4 + a.length);
    expect((await w.zpool(['status', 'tank'])).out).toBe(
      [
        '  pool: tank',
        ' state: ONLINE',
        'config:',
        '',
        `\t${pad('NAME', nw)}  STATE     READ WRITE CKSUM`,
        `\t${pad('tank', nw)}  ONLINE       0     0     0`,
        `\t  ${pad('mirror-0', nw - 2)}  ONLINE       0     0     0`,
        `\t    ${pad(a, nw - 4)}  ONLINE       0     0     0`,
        `\t    ${pad(b, nw - 4)}  ONLINE       0     0     0`,
        '',
        'errors: No known data errors',
        '',
      ].join('\n'),
    );
    const pl = (await w.zpool(['list'])).out.split('\n');
    expect(pl[0]).toBe('NAME   SIZE  ALLOC   FREE  CKPOINT  EXPANDSZ   FRAG    CAP  DEDUP    HEALTH  ALTROOT');
    expect(pl[1]).toMatch(
      /^tank {2}[ 0-9.]{4}M {2}[ 0-9.]{4}[KM] {2}[ 0-9.]{4}M {8}- {9}- {5}0% {2}[ 0-9]{4}% {2}1\.00x {4}ONLINE {2}-$/,
    );
    expect(await w.zfs(['get', 'volsize', 'tank/nope'])).toEqual({
      code: 1,
      out: '',
      err: "cannot open 'tank/nope': dataset does not exist\n",
    });
    expect(await w.zpool(['status', 'nopool'])).toEqual({
      code: 1,
      out: '',
      err: "cannot open 'nopool': no such pool\n",
    });
    expect((await w.zfs(['frobnicate'])).code).toBe(2);
  });

  it('a volume open on the block service is busy for destroy and rollback; free, it goes', async () => {
    const r = await w.zfs(['destroy', 'tank/vm2']);
    expect(r).toEqual({ code: 1, out: '', err: "cannot destroy 'tank/vm2': dataset is busy\n" });
    expect(await w.zfs(['rollback', 'tank/vm1@s1'])).toEqual({
      code: 1,
      out: '',
      err: "cannot rollback to 'tank/vm1@s1': dataset is busy\n",
    });
    expect((await w.zfs(['create', '-V', '8M', 'tank/tmp'])).code).toBe(0);
    expect(await w.zfs(['destroy', 'tank/tmp'])).toEqual({ code: 0, out: '', err: '' });
    expect(await w.zfs(['destroy', 'tank/tmp'])).toEqual({
      code: 1,
      out: '',
      err: "cannot open 'tank/tmp': dataset does not exist\n",
    });
  });

  it('zfs send > file, zfs receive < file: the copy reads back the snapshot', async () => {
    const file = join(w.dir, '..', 'vm1-s1.zstream');
    const sent = await w.zfs(['send', '-v', 'tank/vm1@s1'], { stdout: file });
    expect(sent.code).toBe(0);
    expect(sent.err).toMatch(
      /^full send of tank\/vm1@s1\nTIME {8}SENT {3}SNAPSHOT\n([0-9:]{8} +[0-9.]+[BKM] {3}tank\/vm1@s1\n)+$/,
    );
    expect(statSync(file).size).toBeGreaterThan(3 * MiB);
    const got = await w.zfs(['receive', '-v', 'tank/copy'], { stdin: file });
    expect(got.code).toBe(0);
    expect(got.err).toMatch(/^receiving stream into tank\/copy@s1\nreceived [0-9.]+M stream in [0-9]+ seconds/);
    const copy = await open('tank/copy@s1');
    const snap = await open('tank/vm1@s1');
    for (const o of [0, 5 * MiB, 63 * MiB]) expect(sha(await copy.read(o, MiB))).toBe(sha(await snap.read(o, MiB)));
    // An incremental stream carries what changed since @s1.
    expect((await w.zfs(['snapshot', 'tank/vm1@s2'])).code).toBe(0);
    const inc = join(w.dir, '..', 'vm1-s1-s2.zstream');
    expect((await w.zfs(['send', '-i', '@s1', 'tank/vm1@s2'], { stdout: inc })).code).toBe(0);
    expect(statSync(inc).size).toBeLessThan(statSync(file).size);
    expect(await w.zfs(['receive', 'tank/copy'], { stdin: inc })).toEqual({ code: 0, out: '', err: '' });
    const copy2 = await open('tank/copy@s2');
    const vm1 = await open('tank/vm1@s2');
    for (const o of [0, 5 * MiB, 63 * MiB]) expect(sha(await copy2.read(o, MiB))).toBe(sha(await vm1.read(o, MiB)));
    expect(sha(await copy2.read(0, MiB))).not.toBe(sha(await snap.read(0, MiB)));
    // With no redirected output (a terminal) the stream is refused, as zfs does.
    const r = await w.zfs(['send', 'tank/vm1@s1']);
    expect(r).toEqual({
      code: 1,
      out: '',
      err: 'Error: Stream can not be written to a terminal.\nYou must redirect standard output.\n',
    });
    // Receiving the same snapshot again: the engine's refusal, with the CLI's exit status.
    const again = await w.zfs(['receive', 'tank/copy'], { stdin: file });
    expect(again.code).toBe(1);
    expect(again.err).not.toBe('');
  });

  it('scrub reports progress while it runs and a scan line when done', async () => {
    expect((await w.zfs(['create', '-s', '-V', '16M', '-b', '4K', 'tank/scrubme'])).code).toBe(0);
    const b = await open('tank/scrubme');
    await writeSpread(
      b,
      Array.from({ length: 8 }, (_, i) => i * 2 * MiB),
    );
    await b.close();
    expect(await w.zpool(['scrub', 'tank'])).toEqual({ code: 0, out: '', err: '' });
    const seen: Array<{ examinedBytes: number; totalBytes: number }> = [];
    await waitFor(
      async () => {
        const [s] = await w.call<PoolView[]>('pool-status', { name: 'tank' });
        if (s.scanProgress) seen.push(s.scanProgress);
        return !s.scanProgress && s.scan?.state === 'finished';
      },
      30_000,
      'the scrub to finish',
    );
    expect(seen.some((p) => p.examinedBytes > 0 && p.examinedBytes < p.totalBytes)).toBe(true);
    const st = await w.zpool(['status', 'tank']);
    expect(st.out).toMatch(
      /^ {2}scan: scrub repaired 0B in [0-9]{2}:[0-9]{2}:[0-9]{2} with 0 errors on [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} [0-9]{4}$/m,
    );
  });

  it('restart: the pool files are imported again, and an open zvol reconnects without an error', async () => {
    const vm1 = backends[0];
    const expected = sha(await vm1.read(0, MiB));
    await w.stopApp();
    const pending = vm1.read(0, MiB); // in flight while the domain is down
    await w.startApp();
    expect(sha(await pending)).toBe(expected);
    expect(vm1.reconnectCount).toBeGreaterThanOrEqual(1);
    const list = await w.zfs(['list', '-H', '-o', 'name']);
    expect(list.out).toBe('tank\ntank/copy\ntank/scrubme\ntank/vm1\ntank/vm2\n');
    // A pool created, exported and imported again through zpool.
    expect(await w.zpool(['create', '-o', 'size=64M', 'small', 'small.img'])).toEqual({ code: 0, out: '', err: '' });
    expect((await w.zpool(['export', 'small'])).code).toBe(0);
    expect((await w.zpool(['list', '-H', '-o', 'name,health'])).out).toBe('tank\tONLINE\n');
    writeFileSync(join(w.dir, 'notes.txt'), 'not a vdev'); // other files in the directory are passed over
    expect((await w.zpool(['import', 'small'])).code).toBe(0);
    expect(await w.zpool(['import', 'nosuch'])).toEqual({
      code: 1,
      out: '',
      err: expect.stringMatching(/nosuch/) as unknown,
    });
    expect((await w.zpool(['list', '-H'])).out.split('\n').map((l) => l.split('\t')[0])).toEqual(['small', 'tank', '']);
  });

  it('a bad request fails alone, on the bus and on a block stream', async () => {
    await expect(w.call('create', { name: 'tank/x', volsize: 'lots' })).rejects.toMatchObject({
      kind: 'EINVAL',
      message: "bad size 'lots' for volsize",
    });
    await expect(w.call('snapshot', { names: 'tank/vm1@x' })).rejects.toBeInstanceOf(BusError);
    await expect(w.call('no-such-verb', {})).rejects.toMatchObject({ kind: 'ENOSYS' });
    w.nc.publish(subjects.zfs(0, 'list'), new TextEncoder().encode('{not json'));
    expect((await w.zfs(['list', '-H', '-o', 'name', 'tank/vm1'])).out).toBe('tank/vm1\n');

    // A raw stream: requests before open, past the end, with no op, each answered with its errno; then reads work.
    const Ctor = blockService();
    const client = new Ctor(w.service.blockEndpoint, grpc.credentials.createInsecure());
    const call = (
      client as unknown as { Connect(): grpc.ClientDuplexStream<WireBlockRequest, WireBlockResponse> }
    ).Connect();
    const answers = new Map<number, WireBlockResponse>();
    call.on('data', (r: WireBlockResponse) => answers.set(r.id, r));
    call.write({ id: 1, read: { offset: 0, length: 512 } });
    call.write({ id: 2, open: { volume: 'tank/vm1' } });
    await waitFor(() => answers.has(2), 5000, 'open');
    call.write({ id: 3, read: { offset: 64 * MiB, length: 512 } });
    call.write({ id: 4 });
    call.write({ id: 5, open: { volume: 'tank/nope' } });
    call.write({ id: 6, read: { offset: 0, length: 512 } });
    await waitFor(() => answers.size === 6, 5000, 'six answers');
    expect(answers.get(1)).toMatchObject({
      errno: 'EINVAL',
      message: expect.stringMatching(/no volume is open/) as unknown,
    });
    expect(answers.get(2)?.opened).toMatchObject({
      volume: 'tank/vm1',
      size: 64 * MiB,
      blockSize: 16384,
      readOnly: false,
    });
    expect(answers.get(3)).toMatchObject({
      errno: 'EINVAL',
      message: expect.stringMatching(/past the end/) as unknown,
    });
    expect(answers.get(4)).toMatchObject({ errno: 'EINVAL', message: 'request 4: no operation' });
    expect(answers.get(5)).toMatchObject({
      errno: 'EINVAL',
      message: expect.stringMatching(/has tank\/vm1 open already/) as unknown,
    });
    expect(answers.get(6)).toMatchObject({ errno: '' });
    expect(sha(answers.get(6)!.data)).toBe(sha(await backends[0].read(0, 512)));
    call.end();
    client.close();
    await expect(ZvolBackend.open({ volume: 'tank/nope', endpoint })).rejects.toMatchObject({ kind: 'ENOENT' });
  });
});
