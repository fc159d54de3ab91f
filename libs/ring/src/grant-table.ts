// A granting domain's grant table (public/grant_table.h, v1 semantics): a grant ref names one 4 KiB page
// the granter lets one other domain copy from, or into unless the grant is readonly. Over gRPC the bytes
// travel inline, so the granter's runtime performs every copy and checks it here, as Xen would.
import {
  GNTST,
  GNTTAB_NR_RESERVED_ENTRIES,
  XEN_PAGE_SIZE,
  isDomId,
  type DomId,
  type GntStatus,
  type GrantRef,
} from '@dominion/abi';
import { RingError, gntstName } from './errors.js';

/** gnttab_max_frames default (64) x 512 v1 entries per frame. */
export const GNTTAB_DEFAULT_MAX_ENTRIES = 64 * 512;

export interface GrantEntry {
  readonly ref: GrantRef;
  /** The grantee: the only domain that may use this grant. */
  readonly domid: DomId;
  readonly page: Uint8Array;
  /** GTF_readonly: the grantee may copy from the page, never into it. */
  readonly readonly: boolean;
}

/** The outcome of checking one grant copy: GNTST_okay, or the status Xen's copy would fail with and why. */
export interface GrantCheck {
  status: GntStatus;
  reason: string;
}

export class GrantTable {
  private readonly entries = new Map<GrantRef, { domid: DomId; page: Uint8Array; readonly: boolean }>();
  private readonly freed: GrantRef[] = [];
  private next = GNTTAB_NR_RESERVED_ENTRIES;
  readonly maxEntries: number;

  constructor(opts: { maxEntries?: number } = {}) {
    this.maxEntries = opts.maxEntries ?? GNTTAB_DEFAULT_MAX_ENTRIES;
    if (!Number.isSafeInteger(this.maxEntries) || this.maxEntries <= GNTTAB_NR_RESERVED_ENTRIES) {
      throw new RingError(
        'EINVAL',
        `grant table size ${this.maxEntries} leaves no room after the ${GNTTAB_NR_RESERVED_ENTRIES} reserved entries`,
      );
    }
  }

  /** Number of live grants. */
  get size(): number {
    return this.entries.size;
  }

  /** Grants `domid` access to `page` (exactly one Xen page) and returns the new ref. */
  grant(domid: DomId, page: Uint8Array, readonly = false): GrantRef {
    if (!isDomId(domid)) throw new RingError('EINVAL', `grant: ${String(domid)} is not a domain id`);
    if (page.length !== XEN_PAGE_SIZE)
      throw new RingError('EINVAL', `grant to domain ${domid}: a page is ${XEN_PAGE_SIZE} bytes, not ${page.length}`);
    const ref = this.allocRef(domid);
    this.entries.set(ref, { domid, page, readonly });
    return ref;
  }

  /** Ends a grant (gnttab_end_foreign_access); the ref may be handed out again later. */
  revoke(ref: GrantRef): void {
    if (!this.entries.delete(ref)) throw new RingError('EINVAL', `revoke: grant ref ${ref} is not granted`);
    this.freed.push(ref);
  }

  /** Re-points an unused grant at another domain, as a frontend does when a new backend takes over. */
  regrant(ref: GrantRef, domid: DomId): void {
    const e = this.entries.get(ref);
    if (!e) throw new RingError('EINVAL', `regrant: grant ref ${ref} is not granted`);
    if (!isDomId(domid)) throw new RingError('EINVAL', `regrant of ref ${ref}: ${String(domid)} is not a domain id`);
    e.domid = domid;
  }

  get(ref: GrantRef): GrantEntry | undefined {
    const e = this.entries.get(ref);
    return e && { ref, domid: e.domid, page: e.page, readonly: e.readonly };
  }

  /**
   * Checks one copy by `domid` of `length` bytes at `offset` of grant `ref`, into the page if `write`.
   * Statuses as Xen's grant code gives them: an unknown ref is GNTST_bad_gntref, a grant to another
   * domain GNTST_permission_denied, a write into a readonly grant GNTST_general_error, a range outside
   * the page GNTST_bad_copy_arg.
   */
  check(domid: DomId, ref: GrantRef, offset: number, length: number, write: boolean): GrantCheck {
    const e = this.entries.get(ref);
    if (!e) return fail(GNTST.GNTST_bad_gntref, `grant ref ${ref} is not granted`);
    if (e.domid !== domid) {
      return fail(
        GNTST.GNTST_permission_denied,
        `grant ref ${ref} is granted to domain ${e.domid}, not to domain ${domid}`,
      );
    }
    if (write && e.readonly)
      return fail(GNTST.GNTST_general_error, `grant ref ${ref} is readonly: domain ${domid} may not write it`);
    if (!withinPage(offset, length)) {
      return fail(
        GNTST.GNTST_bad_copy_arg,
        `grant ref ${ref}: ${length} bytes at offset ${offset} do not fit in a ${XEN_PAGE_SIZE}-byte page`,
      );
    }
    return { status: GNTST.GNTST_okay, reason: 'okay' };
  }

  private allocRef(domid: DomId): GrantRef {
    if (this.next < this.maxEntries) return this.next++;
    // LIFO, as Linux's gnttab free list: O(1), where shift() on a 32k-entry list was a hot spot.
    const ref = this.freed.pop();
    if (ref === undefined)
      throw new RingError('ENOSPC', `grant to domain ${domid}: all ${this.maxEntries} grant entries are in use`);
    return ref;
  }
}

function fail(status: GntStatus, reason: string): GrantCheck {
  return { status, reason: `${reason} (${gntstName(status)})` };
}

/** A grant copy may not cross its page (GNTST_bad_copy_arg otherwise). */
export function withinPage(offset: number, length: number): boolean {
  return (
    Number.isSafeInteger(offset) &&
    Number.isSafeInteger(length) &&
    offset >= 0 &&
    length >= 0 &&
    offset + length <= XEN_PAGE_SIZE
  );
}
