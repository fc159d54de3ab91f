// The host the hypervisor hands out: memory (KiB) and physical CPUs. By default it is the machine the
// service runs on less a reserve for everything that is not a domain (the OS, nats-server, the hypervisor).

export interface HostConfig {
  totalMemoryKiB: number;
  nrCpus: number;
  /** dom0's allocation at boot (Xen's dom0_mem). */
  dom0MemoryKiB: number;
  dom0Vcpus: number;
}

export interface Machine {
  /** os.totalmem(), bytes. */
  totalMemBytes: number;
  /** os.cpus().length. */
  cpus: number;
}

const MiB = 1024;
const GiB = 1024 * MiB;

/** 10% of the machine's memory, at least 256 MiB, at most 1 GiB, stays outside the domains. */
export function memoryReserveKiB(totalKiB: number): number {
  return Math.min(GiB, Math.max(256 * MiB, Math.floor(totalKiB / 10)));
}

export function hostFromMachine(m: Machine): HostConfig {
  const machineKiB = Math.floor(m.totalMemBytes / 1024);
  const totalMemoryKiB = Math.max(0, machineKiB - memoryReserveKiB(machineKiB));
  const nrCpus = Math.max(1, m.cpus);
  return {
    totalMemoryKiB,
    nrCpus,
    dom0MemoryKiB: Math.min(GiB, Math.floor(totalMemoryKiB / 4)),
    dom0Vcpus: nrCpus,
  };
}
