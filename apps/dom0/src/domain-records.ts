// What the toolstack keeps per domain it created, so that a restarted dom0 can adopt the domain again (as
// libxl keeps its userdata under /var/lib/xen): the request it was created from (config text, source, the
// command line's overrides), its uuid, the pid of its guest process, and its devices with the driver domain
// (name and domid) serving each, so that devices follow a driver domain that restarts. One file per domain, written
// atomically (temporary file, fsync, rename), removed when the domain is destroyed.
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ToolstackDevice } from '@dominion/toolstack';

export interface DomainRecord {
  domid: number;
  name: string;
  uuid: string;
  request: { config: string; source: string; overrides?: string[] };
  pid?: number;
  credsFile?: string;
  /** on_*=preserve kept it shut down. */
  preserved?: boolean;
  /** Created by the bootstrap exchange: no process of dom0's. */
  bootstrapped?: boolean;
  /** Its vbds and vifs (from the config or attached since), each with the driver domain serving it. */
  devices?: ToolstackDevice[];
}

const FILE = /^domain-([0-9]+)\.json$/;

export class DomainRecords {
  constructor(private readonly dir: string) {}

  private file(domid: number): string {
    return join(this.dir, `domain-${domid}.json`);
  }

  save(r: DomainRecord): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file(r.domid)}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(r)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file(r.domid));
  }

  remove(domid: number): void {
    rmSync(this.file(domid), { force: true });
  }

  /** Every readable record; a file that does not parse is reported and skipped. */
  load(onBad: (file: string, why: string) => void): DomainRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: DomainRecord[] = [];
    for (const n of names) {
      const m = FILE.exec(n);
      if (!m) continue;
      try {
        const r = JSON.parse(readFileSync(join(this.dir, n), 'utf8')) as DomainRecord;
        if (r.domid !== Number(m[1]) || typeof r.name !== 'string' || typeof r.request?.config !== 'string')
          throw new Error('not a domain record');
        out.push(r);
      } catch (e) {
        onBad(join(this.dir, n), (e as Error).message);
      }
    }
    return out;
  }
}
