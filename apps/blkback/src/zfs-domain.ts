// Where the ZFS storage domain (apps/zfs) serves its zvols: blkback knows it by name
// (DOMINION_BLKBACK_ZFS_DOMAIN, default `zfs`, or a domid), finds its domid among /local/domain/*/name and
// reads its /local/domain/<domid>/data/zfs/block-endpoint. Both are looked up again before every dial, so a
// ZFS domain restarted under a new domid or on a new port is followed.
import type { XenbusStore } from '@dominion/xenbus';
import { messageOf } from '@dominion/bus';
import { BlkbackError } from './errors.js';

export const DEFAULT_ZFS_DOMAIN = 'zfs';
/** Relative to the ZFS domain's home (apps/zfs's BLOCK_ENDPOINT_KEY). */
export const ZFS_BLOCK_ENDPOINT_KEY = 'data/zfs/block-endpoint';

export class ZfsDomainLocator {
  constructor(
    private readonly store: Pick<XenbusStore, 'directory' | 'tryRead'>,
    /** A domain name, or a domid. */
    readonly domain: string = DEFAULT_ZFS_DOMAIN,
  ) {}

  /** The domid of the domain named so; ENOENT if no domain visible to us has that name. */
  async domid(): Promise<number> {
    if (/^[0-9]{1,5}$/.test(this.domain)) return Number(this.domain);
    let ids: string[];
    try {
      ids = await this.store.directory('/local/domain');
    } catch (e) {
      throw new BlkbackError('ENOENT', `cannot list /local/domain to find domain ${this.domain}: ${messageOf(e)}`);
    }
    for (const id of ids) {
      // A domain whose name we may not read is not the one we are looking for.
      const name = await this.store.tryRead(`/local/domain/${id}/name`).catch(() => undefined);
      if (name === this.domain && /^[0-9]+$/.test(id)) return Number(id);
    }
    throw new BlkbackError(
      'ENOENT',
      `no domain named ${this.domain} in /local/domain/*/name (the ZFS domain, DOMINION_BLKBACK_ZFS_DOMAIN)`,
    );
  }

  /** host:port of the ZFS domain's block service. */
  async endpoint(): Promise<string> {
    const path = `/local/domain/${await this.domid()}/${ZFS_BLOCK_ENDPOINT_KEY}`;
    let ep: string | undefined;
    try {
      ep = await this.store.tryRead(path);
    } catch (e) {
      throw new BlkbackError('EACCES', `cannot read ${path} (ZFS domain ${this.domain}): ${messageOf(e)}`);
    }
    if (!ep) throw new BlkbackError('ENOENT', `${path} is not written: ZFS domain ${this.domain} is not serving`);
    return ep;
  }
}
