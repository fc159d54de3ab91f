// serveHypervisor with identity: the same responders, except that createdomain also mints the new domain's
// credentials (returned in its reply, which only the control domain's inbox receives) and destroydomain
// revokes them before it replies. The engine stays pure; the async key work happens here, after the
// engine's synchronous call, one create/destroy at a time so that a destroy never overtakes the mint of
// the same domain.
import type { NatsConnection } from '@nats-io/transport-node';
import type { DomId } from '@dominion/abi';
import { BusError, messageOf } from '@dominion/bus';
import {
  serveHypervisor,
  type CreateDomainArgs,
  type HypercallRunner,
  type DomidArgs,
  type Hypervisor,
  type HypervisorServer,
  type ServeHypervisorOptions,
} from '@dominion/hypervisor';
import { IdentityError } from '@dominion/identity';
import type { DomainIdentities } from './domain-identities.js';

export type ServeWithIdentitiesOptions = Omit<ServeHypervisorOptions, 'intercept'>;

export function serveHypervisorWithIdentities(
  nc: NatsConnection,
  hv: Hypervisor,
  ids: DomainIdentities,
  opts: ServeWithIdentitiesOptions = {},
): HypervisorServer {
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const p = chain.then(f, f);
    chain = p.catch(() => undefined);
    return p;
  };
  const createDomain = async (run: HypercallRunner, caller: DomId, body: unknown): Promise<unknown> => {
    const result = run(caller, 'createdomain', body) as { domid: DomId };
    try {
      const args = body as CreateDomainArgs;
      const credentials = await ids.mint(result.domid, args.driver_domain === true, args.user_key);
      return { ...result, credentials };
    } catch (e) {
      // No domain without an identity: undo the creation.
      run(caller, 'destroydomain', { domid: result.domid } satisfies DomidArgs);
      // A user_key the identity refuses is the caller's fault; anything else is ours.
      const kind = e instanceof IdentityError && e.kind === 'EINVAL' ? 'EINVAL' : 'EIO';
      throw new BusError(kind, `createdomain d${result.domid}: minting its credentials failed: ${messageOf(e)}`);
    }
  };
  const destroyDomain = async (run: HypercallRunner, caller: DomId, body: unknown): Promise<unknown> => {
    const result = run(caller, 'destroydomain', body);
    const domid = (body as DomidArgs).domid;
    try {
      await ids.revoke(domid);
    } catch (e) {
      // The revocation is persisted before the push, so the next nats-server start enforces it anyway.
      throw new BusError(
        'EIO',
        `destroydomain d${domid}: destroyed, but revoking its credentials failed: ${messageOf(e)}`,
      );
    }
    return result;
  };
  return serveHypervisor(nc, hv, {
    ...opts,
    intercept: (op, caller, body, run) => {
      if (op === 'createdomain') return serial(() => createDomain(run, caller, body));
      if (op === 'destroydomain') return serial(() => destroyDomain(run, caller, body));
      return run(caller, op, body);
    },
  });
}
