// The hypervisor's configuration from its environment, over defaults taken from the machine.
import { HypervisorError } from './errors.js';
import { hostFromMachine, type HostConfig, type Machine } from './host.js';
import { DEFAULT_LIVENESS, type LivenessConfig } from './liveness.js';

export interface HypervisorConfig {
  host: HostConfig;
  liveness: LivenessConfig;
  /** How often liveness is checked, ms. */
  tickMs: number;
}

type Env = Record<string, string | undefined>;

/**
 * DOMINION_HV_MEMORY_MIB (memory for domains), DOMINION_HV_CPUS, DOMINION_HV_DOM0_MEMORY_MIB,
 * DOMINION_HV_HEARTBEAT_MS (the beat domains are asked to keep), DOMINION_HV_DEADLINE_MS (silence after
 * which a domain is declared crashed).
 */
export function hypervisorConfigFromEnv(env: Env, machine: Machine): HypervisorConfig {
  const host = hostFromMachine(machine);
  const mem = int(env, 'DOMINION_HV_MEMORY_MIB', 1, 2 ** 30);
  if (mem !== undefined) {
    host.totalMemoryKiB = mem * 1024;
    host.dom0MemoryKiB = Math.min(host.dom0MemoryKiB, Math.floor(host.totalMemoryKiB / 4));
  }
  const cpus = int(env, 'DOMINION_HV_CPUS', 1, 4096);
  if (cpus !== undefined) host.nrCpus = host.dom0Vcpus = cpus;
  const dom0 = int(env, 'DOMINION_HV_DOM0_MEMORY_MIB', 1, 2 ** 30);
  if (dom0 !== undefined) {
    if (dom0 * 1024 > host.totalMemoryKiB)
      throw new HypervisorError(
        'EINVAL',
        `DOMINION_HV_DOM0_MEMORY_MIB=${dom0}: more than the ${host.totalMemoryKiB >> 10} MiB the host has`,
      );
    host.dom0MemoryKiB = dom0 * 1024;
  }
  const beatMs = int(env, 'DOMINION_HV_HEARTBEAT_MS', 10, 3_600_000) ?? DEFAULT_LIVENESS.beatMs;
  const deadlineMs =
    int(env, 'DOMINION_HV_DEADLINE_MS', 10, 3_600_000) ?? Math.max(DEFAULT_LIVENESS.deadlineMs, 10 * beatMs);
  if (deadlineMs <= beatMs)
    throw new HypervisorError(
      'EINVAL',
      `DOMINION_HV_DEADLINE_MS=${deadlineMs}: must be longer than the heartbeat (${beatMs} ms)`,
    );
  const liveness: LivenessConfig = {
    ...DEFAULT_LIVENESS,
    beatMs,
    deadlineMs,
    windowMs: Math.min(3 * beatMs, deadlineMs),
  };
  return { host, liveness, tickMs: Math.max(10, Math.min(beatMs, Math.floor(deadlineMs / 4))) };
}

function int(env: Env, key: string, min: number, max: number): number | undefined {
  const v = env[key];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!/^[0-9]+$/.test(v) || n < min || n > max)
    throw new HypervisorError('EINVAL', `${key}=${JSON.stringify(v)}: expected an integer in ${min}..${max}`);
  return n;
}
