// Values written out by hand from reference/xen-facts.md §6 (grant_table.h).
import {
  GNTST,
  GNTTAB_NR_RESERVED_ENTRIES,
  GNTTAB_RESERVED_CONSOLE,
  GNTTAB_RESERVED_XENSTORE,
  GNTTABOP,
  GRANT_ENTRY_V1_SIZE,
  GTF,
} from '@dominion/abi';

describe('grant tables', () => {
  it('has the GNTST_* status codes (all negative but okay)', () => {
    expect(GNTST).toEqual({
      GNTST_okay: 0,
      GNTST_general_error: -1,
      GNTST_bad_domain: -2,
      GNTST_bad_gntref: -3,
      GNTST_bad_handle: -4,
      GNTST_bad_virt_addr: -5,
      GNTST_bad_dev_addr: -6,
      GNTST_no_device_space: -7,
      GNTST_permission_denied: -8,
      GNTST_bad_page: -9,
      GNTST_bad_copy_arg: -10,
      GNTST_address_too_big: -11,
      GNTST_eagain: -12,
      GNTST_no_space: -13,
    });
  });

  it('has the GNTTABOP_* command numbers', () => {
    expect(GNTTABOP).toEqual({
      GNTTABOP_map_grant_ref: 0,
      GNTTABOP_unmap_grant_ref: 1,
      GNTTABOP_setup_table: 2,
      GNTTABOP_dump_table: 3,
      GNTTABOP_transfer: 4,
      GNTTABOP_copy: 5,
      GNTTABOP_query_size: 6,
      GNTTABOP_unmap_and_replace: 7,
      GNTTABOP_set_version: 8,
      GNTTABOP_get_status_frames: 9,
      GNTTABOP_get_version: 10,
      GNTTABOP_swap_grant_ref: 11,
      GNTTABOP_cache_flush: 12,
    });
  });

  it('has the v1 entry flag bits', () => {
    expect(GTF).toEqual({
      GTF_invalid: 0,
      GTF_permit_access: 1,
      GTF_accept_transfer: 2,
      GTF_transitive: 3,
      GTF_type_mask: 3,
      GTF_readonly: 0x4,
      GTF_reading: 0x8,
      GTF_writing: 0x10,
      GTF_PWT: 0x20,
      GTF_PCD: 0x40,
      GTF_PAT: 0x80,
      GTF_sub_page: 0x100,
    });
  });

  it('reserves refs 0 (console) and 1 (xenstore) of the first 8, in 8-byte v1 entries', () => {
    expect(GNTTAB_RESERVED_CONSOLE).toBe(0);
    expect(GNTTAB_RESERVED_XENSTORE).toBe(1);
    expect(GNTTAB_NR_RESERVED_ENTRIES).toBe(8);
    expect(GRANT_ENTRY_V1_SIZE).toBe(8);
  });
});
