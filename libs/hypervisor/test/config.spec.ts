import { hypervisorConfigFromEnv } from '../src/config.js';
import { hostFromMachine } from '../src/host.js';

const GiB = 1024 * 1024 * 1024;

describe('host and configuration', () => {
  it('gives domains the machine less a reserve', () => {
    expect(hostFromMachine({ totalMemBytes: 16 * GiB, cpus: 8 })).toEqual({
      totalMemoryKiB: 15 * 1024 * 1024, // 1 GiB reserve (10% capped at 1 GiB)
      nrCpus: 8,
      dom0MemoryKiB: 1024 * 1024,
      dom0Vcpus: 8,
    });
    expect(hostFromMachine({ totalMemBytes: 2 * GiB, cpus: 2 }).totalMemoryKiB).toBe(2 * 1024 * 1024 - 256 * 1024);
  });

  it('reads overrides and liveness from the environment', () => {
    const c = hypervisorConfigFromEnv(
      {
        DOMINION_HV_MEMORY_MIB: '4096',
        DOMINION_HV_CPUS: '3',
        DOMINION_HV_HEARTBEAT_MS: '200',
        DOMINION_HV_DEADLINE_MS: '1500',
      },
      { totalMemBytes: 16 * GiB, cpus: 8 },
    );
    expect(c.host).toMatchObject({ totalMemoryKiB: 4096 * 1024, nrCpus: 3, dom0MemoryKiB: 1024 * 1024 });
    expect(c.liveness).toMatchObject({ beatMs: 200, deadlineMs: 1500, windowMs: 600 });
    expect(c.tickMs).toBe(200);
    expect(hypervisorConfigFromEnv({}, { totalMemBytes: 16 * GiB, cpus: 8 }).liveness).toMatchObject({
      beatMs: 1000,
      deadlineMs: 10_000,
    });
  });

  it.each([
    ['DOMINION_HV_CPUS', '0', /DOMINION_HV_CPUS="0": expected an integer in 1\.\.4096/],
    ['DOMINION_HV_MEMORY_MIB', '1G', /DOMINION_HV_MEMORY_MIB="1G"/],
    ['DOMINION_HV_DEADLINE_MS', '500', /DOMINION_HV_DEADLINE_MS=500: must be longer than the heartbeat \(1000 ms\)/],
  ])('refuses %s=%s naming the variable', (k, v, re) => {
    expect(() => hypervisorConfigFromEnv({ [k]: v }, { totalMemBytes: 16 * GiB, cpus: 8 })).toThrow(re);
  });
});
