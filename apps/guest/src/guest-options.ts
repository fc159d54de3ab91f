import { CONSOLE_RING_BYTES } from './console-protocol.js';
import { hvmOptionsFromEnv, type HvmOptions } from './hvm/hvm-options.js';

export const GUEST_OPTIONS = Symbol('GUEST_OPTIONS');

export interface GuestOptions {
  /** xl.cfg `kernel`: `builtin:<name>` or an ES module path (env DOMINION_KERNEL). */
  kernel: string;
  consoleRingBytes: number;
  /** How often the guest asks the hypervisor whether its domain still exists (ms). */
  orphanCheckMs: number;
  /** Rx buffers each netfront keeps posted (default: a full rx ring; tests starve a guest with 0). */
  netRxBuffers?: number;
  /** An HVM domain (DOMINION_XLCFG with type = "hvm"): the kernel is QEMU (hvm/). */
  hvm?: HvmOptions;
}

export function guestOptionsFromEnv(env: Record<string, string | undefined> = process.env): GuestOptions {
  const hvm = hvmOptionsFromEnv(env);
  return {
    kernel: env.DOMINION_KERNEL || 'builtin:minios',
    consoleRingBytes: CONSOLE_RING_BYTES,
    orphanCheckMs: 5000,
    ...(hvm && { hvm }),
  };
}
