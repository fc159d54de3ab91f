import { ManualClock } from '../src/clock.js';
import { Hypervisor, type HypervisorOptions } from '../src/hypervisor.js';
import type { HypervisorErrorKind } from '../src/errors.js';

export const MiB = 1024;
export const GiB = 1024 * MiB;

export function makeHv(opts: Partial<HypervisorOptions> = {}): { hv: Hypervisor; clock: ManualClock } {
  const clock = new ManualClock();
  let n = 0;
  const hv = new Hypervisor({
    host: { totalMemoryKiB: 8 * GiB, nrCpus: 4, dom0MemoryKiB: 1 * GiB, dom0Vcpus: 4 },
    clock,
    newUuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    ...opts,
  });
  return { hv, clock };
}

/** The error a call throws, for asserting its kind and message. */
export function failure(f: () => unknown): { kind: HypervisorErrorKind; message: string } {
  try {
    f();
  } catch (e) {
    return e as { kind: HypervisorErrorKind; message: string };
  }
  throw new Error('expected the call to fail, it succeeded');
}

export function create(hv: Hypervisor, name: string, extra: Record<string, unknown> = {}): number {
  return (hv.hypercall(0, 'createdomain', { name, target_memkb: 256 * MiB, ...extra }).result as { domid: number })
    .domid;
}
