// What the hypervisor tells blkback about a frontend's domain: the key its ring proofs must verify against
// (getdomainkey) and whether it is alive. getdomaininfo of another domain is a control-domain operation, so
// a driver domain that gets EPERM there falls back to getdomainkey, which answers ESRCH for a domain that
// does not exist. A hypervisor that mints no identities (bus without auth) answers getdomainkey with
// ENOSYS: then every frontend proves itself with the published NOAUTH key, i.e. a stream is accepted on
// authorize's checks alone, and that is logged once.
import { errnoOf, messageOf } from '@dominion/bus';
import type { DomId, EvtchnPort } from '@dominion/abi';
import type { DomainInfo } from '@dominion/hypervisor';
import type { XenbusLogger } from '@dominion/xenbus';
import { NOAUTH_RING_KEY } from '@dominion/identity';

/** The hypercalls blkback makes, as HypervisorClient has them. */
export interface DomainOracle {
  getDomainKey(domid: DomId): Promise<string>;
  getDomainInfo(domid: DomId): Promise<DomainInfo>;
  evtchnBindInterdomain(remoteDom: DomId, remotePort: EvtchnPort): Promise<EvtchnPort>;
  evtchnClose(port: EvtchnPort): Promise<void>;
  evtchnReset(): Promise<void>;
}

export type Liveness = { alive: true } | { alive: false; why: string };

export class DomainChecks {
  private warnedNoAuth = false;

  constructor(
    private readonly hv: DomainOracle,
    private readonly log: XenbusLogger,
  ) {}

  /** The domain's public user key (NOAUTH_RING_KEY on a bus without identities), undefined if it has none. */
  async keyOf(domid: DomId): Promise<string | undefined> {
    try {
      return await this.hv.getDomainKey(domid);
    } catch (e) {
      const errno = errnoOf(e);
      if (errno === 'ENOSYS') {
        if (!this.warnedNoAuth) {
          this.warnedNoAuth = true;
          this.log(
            'warn',
            `getdomainkey: ${messageOf(e)}: ring streams are accepted on their XenStore checks alone (NOAUTH key)`,
          );
        }
        return NOAUTH_RING_KEY;
      }
      if (errno === 'ENOENT' || errno === 'ESRCH') return undefined;
      throw e;
    }
  }

  async liveness(domid: DomId): Promise<Liveness> {
    try {
      const info = await this.hv.getDomainInfo(domid);
      if (info.dying) return { alive: false, why: `dom${domid} is dying` };
      if (info.shutdown)
        return { alive: false, why: `dom${domid} is shut down (${info.shutdown_reason ?? 'unknown'})` };
      return { alive: true };
    } catch (e) {
      const errno = errnoOf(e);
      if (errno === 'ESRCH') return { alive: false, why: `dom${domid} does not exist` };
      if (errno !== 'EPERM') throw e;
    }
    try {
      await this.hv.getDomainKey(domid);
    } catch (e) {
      const errno = errnoOf(e);
      if (errno === 'ESRCH') return { alive: false, why: `dom${domid} does not exist` };
      if (errno !== 'ENOSYS' && errno !== 'ENOENT') throw e;
    }
    return { alive: true };
  }
}
