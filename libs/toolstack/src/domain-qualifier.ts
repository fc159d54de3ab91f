// How xl names a domain on its command line (libxl_domain_qualifier_to_domid): all digits is a domid,
// taken as is even if no such domain exists; anything else is a name looked up among the domains. And
// the words xl prints when that fails.
import { ToolstackError } from './errors.js';

/** `xl list foo` / any command naming an unknown domain by name: ERROR_INVAL. */
export const invalidDomainIdentifier = (arg: string): string => `${arg} is an invalid domain identifier (rc=-6)`;
/** `xl list 99`: a well-formed domid with no domain. */
export const domainDoesNotExist = (domid: number): string => `Error: Domain '${domid}' does not exist.`;
/** `xl destroy 0`. */
export const NOT_DESTROYING_DOMAIN_0 = 'Not destroying domain 0; use -f to force.';

/** The domid `arg` names; ToolstackError ESRCH with xl's message for an unknown name. */
export function resolveDomain(arg: string, domains: readonly { domid: number; name: string }[]): number {
  if (/^[0-9]+$/.test(arg)) {
    const n = Number(arg);
    // strtoul past domid_t's range names no domain either
    if (n > 0xffff) throw new ToolstackError('ESRCH', invalidDomainIdentifier(arg));
    return n;
  }
  const d = domains.find((x) => x.name === arg);
  if (!d) throw new ToolstackError('ESRCH', invalidDomainIdentifier(arg));
  return d.domid;
}
