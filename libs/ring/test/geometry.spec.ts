// Slot counts worked out by hand from __RING_SIZE: floor((pages*4096 - 64) / entry) rounded down to 2^n.
import { RingError, SRING_HEADER_SIZE, ringSize } from '../src/index.js';

describe('ringSize', () => {
  it('gives Xen’s one-page sizes', () => {
    expect(SRING_HEADER_SIZE).toBe(64);
    expect(ringSize(1, 112)).toBe(32); // blkif x86_64: 4032/112 = 36 -> 32
    expect(ringSize(1, 108)).toBe(32); // blkif x86_32: 4032/108 = 37 -> 32
    expect(ringSize(1, 12)).toBe(256); // netif tx: 4032/12 = 336 -> 256
    expect(ringSize(1, 8)).toBe(256); // netif rx: 4032/8 = 504 -> 256
  });

  it('grows a 2^n-page blkif ring to 32 * 2^n slots', () => {
    expect(ringSize(2, 112)).toBe(64); // 8128/112 = 72
    expect(ringSize(4, 112)).toBe(128); // 16320/112 = 145
    expect(ringSize(8, 112)).toBe(256); // 32704/112 = 292
    expect(ringSize(16, 112)).toBe(512); // 65472/112 = 584
  });

  it('rounds down, never up, when the fit is exactly a power of two or one short of it', () => {
    expect(ringSize(1, 126)).toBe(32); // 4032/126 = 32 exactly
    expect(ringSize(1, 127)).toBe(16); // 31.7
  });

  it('refuses geometry with no room for one entry', () => {
    expect(() => ringSize(0, 112)).toThrow(RingError);
    expect(() => ringSize(1, 0)).toThrow(/entry size/);
    expect(() => ringSize(1, 4033)).toThrow(/no room for a 4033-byte entry/);
    expect(ringSize(1, 4032)).toBe(1);
  });
});
