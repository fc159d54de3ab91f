/* Scratch harness: drives Debian's libxlutil 4.17 (xl's own parser) to capture golden outputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include "libxlutil.h"

void libxl_defbool_set(libxl_defbool *db, bool b) { db->val = b ? 1 : -1; }
int libxl_rdm_reserve_policy_from_string(const char *s, libxl_rdm_reserve_policy *e) { return -1; }
int libxl__device_disk_dev_number(const char *virtpath, int *pdisk, int *ppartition);

static void dumpv(XLU_Config *c, XLU_ConfigValue *v) {
  if (xlu_cfg_value_type(v) == XLU_STRING) { char *s; xlu_cfg_value_get_string(c, v, &s, 1); printf("\"%s\"", s); return; }
  XLU_ConfigList *l; xlu_cfg_value_get_list(c, v, &l, 1); printf("[");
  for (int i = 0; ; i++) { XLU_ConfigValue *e = xlu_cfg_get_listitem2(l, i); if (!e) break; if (i) printf(","); dumpv(c, e); }
  printf("]");
}
static const char *s(const char *x) { return x ? x : "(null)"; }
int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (!strcmp(argv[1], "cfg")) {
    XLU_Config *c = xlu_cfg_init(stdout, argv[2]);
    int rc = xlu_cfg_readfile(c, argv[3]);
    printf("rc=%d\n", rc);
    if (rc) return 0;
    for (int i = 4; i < argc; i++) {
      XLU_ConfigList *l; int n; const char *str;
      if (!xlu_cfg_get_list(c, argv[i], &l, &n, 1)) {
        printf("%s=[", argv[i]);
        for (int j = 0; j < n; j++) { if (j) printf(","); dumpv(c, xlu_cfg_get_listitem2(l, j)); }
        printf("]\n");
      } else if (!xlu_cfg_get_string(c, argv[i], &str, 1)) {
        long v; int e = xlu_cfg_get_long(c, argv[i], &v, 0);
        printf("%s=\"%s\"", argv[i], str); if (!e) printf(" long=%ld", v); printf("\n");
      } else printf("%s absent\n", argv[i]);
    }
  } else if (!strcmp(argv[1], "disk")) {
    XLU_Config *c = xlu_cfg_init(stdout, "command line");
    libxl_device_disk d; memset(&d, 0, sizeof d);
    int rc = xlu_disk_parse(c, argc - 2, (const char *const *)argv + 2, &d);
    printf("rc=%d\n", rc);
    if (rc) return 0;
    printf("pdev_path=%s vdev=%s backend=%d format=%d script=%s removable=%d readwrite=%d is_cdrom=%d direct_io_safe=%d discard=%d backend_domname=%s specification=%d trusted=%d\n",
      s(d.pdev_path), s(d.vdev), d.backend, d.format, s(d.script), d.removable, d.readwrite, d.is_cdrom, d.direct_io_safe,
      d.discard_enable.val, s(d.backend_domname), d.specification, d.trusted.val);
  } else if (!strcmp(argv[1], "rate")) {
    XLU_Config *c = xlu_cfg_init(stdout, "command line");
    libxl_device_nic n; memset(&n, 0, sizeof n);
    int rc = xlu_vif_parse_rate(c, argv[2], &n);
    printf("rc=%d bytes=%llu usecs=%u\n", rc, (unsigned long long)n.rate_bytes_per_interval, n.rate_interval_usecs);
  } else if (!strcmp(argv[1], "devnum")) {
    for (int i = 2; i < argc; i++) { int d = -9, p = -9; int r = libxl__device_disk_dev_number(argv[i], &d, &p);
      int r2 = libxl__device_disk_dev_number(argv[i], NULL, NULL);
      printf("%s %d disk=%d part=%d nodp=%d\n", argv[i], r, d, p, r2); }
  }
  return 0;
}
