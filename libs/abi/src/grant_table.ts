// xen/include/public/grant_table.h

export type GrantRef = number; // grant_ref_t is u32

/** GNTST_* status codes. */
export const GNTST = {
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
} as const;
export type GntStatus = (typeof GNTST)[keyof typeof GNTST];

/** GNTTABOP_* commands. */
export const GNTTABOP = {
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
} as const;

/** grant_entry_v1.flags bits. */
export const GTF = {
  GTF_invalid: 0,
  GTF_permit_access: 1,
  GTF_accept_transfer: 2,
  GTF_transitive: 3,
  GTF_type_mask: 3,
  GTF_readonly: 1 << 2,
  GTF_reading: 1 << 3,
  GTF_writing: 1 << 4,
  GTF_PWT: 1 << 5,
  GTF_PCD: 1 << 6,
  GTF_PAT: 1 << 7,
  GTF_sub_page: 1 << 8,
} as const;

/** Reserved grant refs. */
export const GNTTAB_RESERVED_CONSOLE = 0;
export const GNTTAB_RESERVED_XENSTORE = 1;
export const GNTTAB_NR_RESERVED_ENTRIES = 8;
/** grant_entry_v1 is 8 bytes: flags u16 @0, domid u16 @2, frame u32 @4. */
export const GRANT_ENTRY_V1_SIZE = 8;
