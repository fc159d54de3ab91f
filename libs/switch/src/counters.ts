// Per-port counters, from the switch's side of the port like `ip -s link` on a bridge port: rx is what the
// port sent into the switch, tx what the switch delivered to it.

export const DROP_REASONS = ['runt', 'spoofed-mac', 'spoofed-ip', 'vlan', 'same-port'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface PortCounters {
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  /** Frames told to wait for rate-limit credit (each retry that waits again counts again). */
  deferred: number;
  drops: Record<DropReason, number>;
}

export function zeroCounters(): PortCounters {
  return {
    rxFrames: 0,
    rxBytes: 0,
    txFrames: 0,
    txBytes: 0,
    deferred: 0,
    drops: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>,
  };
}
