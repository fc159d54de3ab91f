// Export descriptions and the mapping of export failures onto NBD error values (proto.md "Error values").
import { FsioError } from '@dominion/fsio';
import { describeExport, NbdError, nbdErrorValueOf, NBD_FLAG, transmissionFlags } from '../src/index.js';
import { MemoryExport } from './helpers/memory-export.js';

describe('NbdExport', () => {
  it('maps failures to NBD error values: errno kinds it knows, NBD_EIO for the rest', () => {
    expect(nbdErrorValueOf(new FsioError('ENOSPC', 'write x'))).toBe(28);
    expect(nbdErrorValueOf(new FsioError('EROFS', 'write x'))).toBe(1);
    expect(nbdErrorValueOf(new NbdError('E2BIG', 'read'))).toBe(75);
    expect(nbdErrorValueOf(Object.assign(new Error('quota'), { code: 'EDQUOT' }))).toBe(28);
    expect(nbdErrorValueOf(new FsioError('ENOENT', 'gone'))).toBe(5);
    expect(nbdErrorValueOf('a string')).toBe(5);
  });

  it('rejects sizes and block sizes proto.md forbids, and accepts the defaults', () => {
    const ok = new MemoryExport(4096);
    expect(describeExport('ok', ok)).toEqual({ size: 4096, blockSize: { min: 1, preferred: 4096, max: 1 << 25 } });
    const bad =
      (over: object): (() => unknown) =>
      () =>
        describeExport('x', Object.assign(new MemoryExport(4096), over));
    expect(bad({ size: 2n ** 60n })).toThrow(/size 1152921504606846976 is not a byte count below 2\^53/);
    expect(bad({ blockSize: { min: 3, preferred: 4096, max: 65536 } })).toThrow(/minimum block size 3/);
    expect(bad({ blockSize: { min: 4096, preferred: 512, max: 65536 } })).toThrow(/preferred block size 512/);
    expect(bad({ blockSize: { min: 512, preferred: 4096, max: 1024 } })).toThrow(/maximum payload 1024/);
    expect(describeExport('big', Object.assign(new MemoryExport(1), { size: 2n ** 40n })).size).toBe(2 ** 40);
  });

  it('advertises only what the export offers: CAN_MULTI_CONN only when it says so, DF only with structured replies', () => {
    const e = new MemoryExport(4096);
    const { NBD_FLAG_CAN_MULTI_CONN, NBD_FLAG_SEND_DF } = NBD_FLAG;
    expect(transmissionFlags(e, false) & (NBD_FLAG_CAN_MULTI_CONN | NBD_FLAG_SEND_DF)).toBe(0);
    e.canMultiConn = true;
    expect(transmissionFlags(e, true) & (NBD_FLAG_CAN_MULTI_CONN | NBD_FLAG_SEND_DF)).toBe(
      NBD_FLAG_CAN_MULTI_CONN | NBD_FLAG_SEND_DF,
    );
  });
});
