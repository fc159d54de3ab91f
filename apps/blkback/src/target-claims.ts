// Writable exclusivity, as Xen's block script checks it (`check_sharing`): a target may be shared only if
// every user opens it read-only; one that any VBD holds writable is refused to every other, and a writable
// VBD is refused a target anyone already holds. NBD writers need no entry of their own: a VBD's export is
// writable only when the VBD is, and then its target is already held exclusively.
import { BlkbackError } from './errors.js';

export interface TargetHolder {
  /** `vbd 5/51712`, for messages. */
  label: string;
  writable: boolean;
}

export class TargetClaims {
  private readonly holders = new Map<string, TargetHolder[]>();

  /** Claims `path` for `who`, or throws EBUSY naming the path and who holds it. */
  claim(path: string, who: TargetHolder): void {
    const held = this.holders.get(path) ?? [];
    const conflict = held.find((h) => h.writable || who.writable);
    if (conflict) {
      throw new BlkbackError(
        'EBUSY',
        `target ${path} is already open ${conflict.writable ? 'for writing' : 'read-only'} by ${conflict.label}; ` +
          `${who.label} ${who.writable ? 'wants it writable' : 'may share it only read-only'}`,
      );
    }
    this.holders.set(path, [...held, who]);
  }

  release(path: string, label: string): void {
    const rest = (this.holders.get(path) ?? []).filter((h) => h.label !== label);
    if (rest.length > 0) this.holders.set(path, rest);
    else this.holders.delete(path);
  }

  holdersOf(path: string): readonly TargetHolder[] {
    return this.holders.get(path) ?? [];
  }
}
