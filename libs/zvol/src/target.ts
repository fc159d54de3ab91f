// How a disk names a zvol: `target=zvol:tank/vm1` (Dominion's spelling) or `/dev/zvol/tank/vm1` (the device
// node path a Linux dom0 with ZFS would use, as Xen configs write it).
const DATASET = /^[A-Za-z0-9][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)*(@[A-Za-z0-9_.:-]+)?$/;

/** The volume ("tank/vm1", "tank/vm1@snap") a disk target names, or undefined if it names no zvol. */
export function parseZvolTarget(target: string): string | undefined {
  const t = target.trim();
  const name = t.startsWith('zvol:') ? t.slice(5) : t.startsWith('/dev/zvol/') ? t.slice(10) : undefined;
  return name !== undefined && name.includes('/') && DATASET.test(name) ? name : undefined;
}
