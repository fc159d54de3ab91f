// A vtpm spec as xl reads `vtpm = [ 'backend=<domain>[,uuid=<uuid>]' ]`: comma-separated key=value
// words (leading blanks dropped), `backend` mandatory. xl stops reading at a word without `=` and exits
// without a message when backend is missing; both are reported here.
import { XlCfgError, formatLocation, type XlCfgLocation } from './errors.js';
import { parseUuid } from './uuid.js';

export interface VtpmSpec {
  spec: string;
  devid: number;
  /** The vTPM stub domain's name (or id). */
  backend: string;
  uuid?: string;
}

export function parseVtpmSpec(spec: string, opts: { devid?: number; where?: XlCfgLocation } = {}): VtpmSpec {
  const where = opts.where ?? { source: 'command line' };
  const err = (msg: string) => new XlCfgError(`${formatLocation(where)}: ${msg}`, where);
  let backend: string | undefined;
  let uuid: string | undefined;
  for (const raw of spec.split(',')) {
    const word = raw.replace(/^ +/, '');
    if (word === '') continue;
    const eq = word.indexOf('=');
    const key = eq < 0 ? word : word.slice(0, eq);
    const val = word.slice(eq + 1);
    if (eq >= 0 && key === 'backend') {
      backend = val;
    } else if (eq >= 0 && key === 'uuid') {
      uuid = parseUuid(val);
      if (!uuid) throw err(`Failed to parse vtpm UUID: ${val}`);
    } else {
      throw err(`Unknown string \`${key}' in vtpm spec \`${spec}'`);
    }
  }
  if (backend === undefined) throw err(`vtpm spec \`${spec}' has no backend=`);
  const out: VtpmSpec = { spec, devid: opts.devid ?? 0, backend };
  if (uuid !== undefined) out.uuid = uuid;
  return out;
}
