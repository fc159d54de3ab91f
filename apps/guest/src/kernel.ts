// The guest kernel interface: what a PV kernel program (builtin or a user's ES module) gets from its domain,
// and what it must provide. Paths given to `xenstore` may be relative: they are relative to the domain's home,
// as Xen's tools resolve them inside a guest.
import type { IpStack } from '@dominion/ipstack';
import type { BlockDevices } from './blkfront/block-device.js';

/** The reasons a guest may shut itself down with (SCHEDOP_shutdown). */
export type GuestShutdownReason = 'poweroff' | 'reboot' | 'suspend' | 'crash';

export interface GuestApi {
  readonly domid: number;
  readonly console: {
    /** Appends raw text to the console (a line ends with "\n"). */
    write(text: string): void;
  };
  readonly xenstore: {
    read(path: string): Promise<string>;
    write(path: string, value: string): Promise<void>;
    /** Child names. */
    directory(path: string): Promise<string[]>;
  };
  readonly memory: {
    /** KiB of guest frames actually allocated so far (frames are allocated lazily). */
    usedKiB(): number;
  };
  /** Asks the hypervisor to shut this domain down; the service then exits. */
  shutdown(reason: GuestShutdownReason): Promise<void>;
  /** Seconds since this domain booted. */
  uptime(): number;
  /** The guest's NICs (netfront), eth<devid> each; absent without a network. */
  readonly net?: {
    stacks(): IpStack[];
  };
  /** The guest's virtual disks (blkfront), xvda… each; absent when blkfront is not running. */
  readonly block?: BlockDevices;
}

export interface GuestKernel {
  readonly name: string;
  /** Boots the kernel: print a banner, a prompt… */
  start(api: GuestApi): void | Promise<void>;
  /** One line typed on the console (without its line ending). */
  input(line: string): void | Promise<void>;
  stop?(): void | Promise<void>;
}

/** What a kernel module exports as `createKernel` (or as its default export). */
export type KernelFactory = () => GuestKernel;
