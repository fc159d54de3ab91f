// Every vif of this guest: one Netfront per device/vif/<devid>, started before the kernel boots, as a PV
// kernel probes its devices. A vif that fails its start is logged and left out; the others run.
import { childrenOf, type XenbusLogger } from '@dominion/xenbus';
import type { IpStack } from '@dominion/ipstack';
import { Netfront, type NetfrontOptions } from './netfront.js';

export class Netfronts {
  private constructor(readonly all: Netfront[]) {}

  /** Starts a Netfront for each device under `<home>/device/vif`. */
  static async start(home: string, opts: Omit<NetfrontOptions, 'path'>, logger?: XenbusLogger): Promise<Netfronts> {
    const devids = (await childrenOf(opts.store, `${home}/device/vif`))
      .filter((d) => /^[0-9]+$/.test(d))
      .sort((a, b) => Number(a) - Number(b));
    const all: Netfront[] = [];
    for (const d of devids) {
      const nf = new Netfront({ logger, ...opts, path: `${home}/device/vif/${d}` });
      try {
        await nf.start();
        all.push(nf);
      } catch (e) {
        logger?.('error', `vif ${d}: ${(e as Error).message}`, { error: e });
      }
    }
    return new Netfronts(all);
  }

  /** The interface named `eth<devid>`. */
  get(name: string): Netfront | undefined {
    return this.all.find((n) => n.name === name);
  }

  stacks(): IpStack[] {
    return this.all.map((n) => n.ip);
  }

  async stop(): Promise<void> {
    for (const n of this.all) await n.stop();
  }
}
