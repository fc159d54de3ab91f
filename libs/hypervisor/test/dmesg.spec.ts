import { ConsoleRing } from '../src/dmesg.js';
import { create, makeHv } from './helpers.js';

describe('console ring (xl dmesg)', () => {
  it('holds at most its capacity in bytes, dropping the oldest lines', () => {
    const ring = new ConsoleRing(200, 0);
    for (let i = 0; i < 20; i++) ring.log(i * 1000, `line ${i}`);
    const lines = ring.read();
    expect(ring.size).toBeLessThanOrEqual(200);
    expect(lines.reduce((n, l) => n + l.length + 1, 0)).toBe(ring.size);
    expect(lines.at(-1)).toBe('(XEN) [   19.000000] line 19');
    // Each line is 28 characters + newline = 29 bytes: 6 fit in 200 (174), a 7th would need 203.
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe('(XEN) [   14.000000] line 14');
    expect(ring.dropped).toBe(14);
  });

  it('dmesg -c reads then clears, and only the control domain reads it', () => {
    const { hv } = makeHv();
    const g = create(hv, 'g');
    const first = (hv.hypercall(0, 'dmesg', { clear: true }).result as { lines: string[] }).lines;
    expect(first).toEqual([
      expect.stringMatching(/^\(XEN\) \[ +0\.000000\] Dominion hypervisor: 4 CPUs, 8192 MiB for domains$/),
      expect.stringMatching(/d0: Domain-0 built: 1024 MiB, 4 vCPUs$/),
      expect.stringMatching(/d1: created "g"/),
    ]);
    expect(hv.hypercall(0, 'dmesg', {}).result).toEqual({ lines: [] });
    expect(() => hv.hypercall(g, 'dmesg', {})).toThrow(expect.objectContaining({ kind: 'EPERM' }));
  });

  it('stays bounded however many domains come and go', () => {
    const { hv } = makeHv({ dmesgBytes: 4096 });
    for (let i = 0; i < 300; i++) hv.hypercall(0, 'destroydomain', { domid: create(hv, `d${i}`) });
    const lines = (hv.hypercall(0, 'dmesg', {}).result as { lines: string[] }).lines;
    expect(lines.reduce((n, l) => n + l.length + 1, 0)).toBeLessThanOrEqual(4096);
    expect(lines.at(-1)).toMatch(/destroyed "d299"/);
  });
});
