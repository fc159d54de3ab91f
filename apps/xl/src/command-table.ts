// The subcommands of this slice, with the usage, description and options text of tools/xl/xl_cmdtable.c,
// printed by `xl help` and on a usage error as xl's help() does.
import { pad } from '@dominion/toolstack';

export interface CommandSpec {
  name: string;
  /** Changes state: xl offers `-f` (force) globally for those. */
  modifies: boolean;
  desc: string;
  usage: string;
  options?: string;
}

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'create',
    modifies: true,
    desc: 'Create a domain from config file <filename>',
    usage: '<ConfigFile> [options] [vars]',
    options: [
      '-h                      Print this help.',
      '-p                      Leave the domain paused after it is created.',
      '-c                      Connect to the console after the domain is created.',
    ].join('\n'),
  },
  {
    name: 'destroy',
    modifies: false,
    desc: 'Terminate a domain immediately',
    usage: '[options] <Domain>',
    options: '-f                      Permit destroying domain 0.',
  },
  {
    name: 'list',
    modifies: false,
    desc: 'List information about all/some domains',
    usage: '[options] [Domain]',
    options: '-l, --long                              Output all VM details',
  },
  {
    name: 'shutdown',
    modifies: false,
    desc: 'Issue a shutdown signal to a domain',
    usage: '[options] <-a|Domain>',
    options: [
      '-a, --all               Shutdown all guest domains.',
      '-h                      Print this help.',
      '-F                      Fallback to ACPI power event for HVM guests with',
      '                        no PV drivers.',
      '-w, --wait              Wait for guest(s) to shutdown.',
    ].join('\n'),
  },
  {
    name: 'reboot',
    modifies: false,
    desc: 'Issue a reboot signal to a domain',
    usage: '[options] <-a|Domain>',
    options: [
      '-a, --all               Shutdown all guest domains.',
      '-h                      Print this help.',
      '-F                      Fallback to ACPI reset event for HVM guests with',
      '                        no PV drivers.',
      '-w, --wait              Wait for guest(s) to reboot.',
    ].join('\n'),
  },
  { name: 'pause', modifies: false, desc: 'Pause execution of a domain', usage: '<Domain>' },
  { name: 'unpause', modifies: false, desc: 'Unpause a paused domain', usage: '<Domain>' },
  {
    name: 'mem-max',
    modifies: true,
    desc: 'Set the maximum amount reservation for a domain',
    usage: "<Domain> <MemMB['b'[bytes]|'k'[KB]|'g'[GB]|'m'[MB]|'t'[TB]]>",
  },
  {
    name: 'mem-set',
    modifies: true,
    desc: 'Set the current memory usage for a domain',
    usage: "<Domain> <MemMB['b'[bytes]|'k'[KB]|'g'[GB]|'m'[MB]|'t'[TB]]>",
  },
  { name: 'vcpu-list', modifies: false, desc: 'List the VCPUs for all/some domains', usage: '[Domain, ...]' },
  {
    name: 'sched-credit',
    modifies: false,
    desc: 'Get/set credit scheduler parameters',
    usage: '[-d <Domain> [-w[=WEIGHT]|-c[=CAP]]]',
    options: [
      '-d DOMAIN, --domain=DOMAIN        Domain to modify',
      '-w WEIGHT, --weight=WEIGHT        Weight (int)',
      '-c CAP, --cap=CAP                 Cap (int)',
    ].join('\n'),
  },
  { name: 'domid', modifies: false, desc: 'Convert a domain name to domain id', usage: '<DomainName>' },
  { name: 'domname', modifies: false, desc: 'Convert a domain id to domain name', usage: '<DomainId>' },
  {
    name: 'info',
    modifies: false,
    desc: 'Get information about Xen host',
    usage: '[name]',
    options: 'name                    Print only the value of the lines starting with name.',
  },
  {
    name: 'dmesg',
    modifies: false,
    desc: 'Read and/or clear dmesg buffer',
    usage: '[-c]',
    options: '  -c                        Clear dmesg buffer as well as printing it',
  },
  {
    name: 'console',
    modifies: false,
    desc: "Attach to domain's console",
    usage: '[options] <Domain>',
    options: [
      '-t <type>       console type, pv , serial or vuart (a Dominion guest has pv only)',
      '-n <number>     console number',
      '-e <escape>     escape character (^X for Ctrl-X, or one character; default ^])',
    ].join('\n'),
  },
  {
    name: 'network-attach',
    modifies: true,
    desc: 'Create a new virtual network device',
    usage:
      '<Domain> [type=<type>] [mac=<mac>] [bridge=<bridge>] [ip=<ip>] [script=<script>] [backend=<BackDomain>] [vifname=<name>] [rate=<rate>] [model=<model>] [accel=<accel>]',
  },
  { name: 'network-list', modifies: false, desc: 'List virtual network interfaces for a domain', usage: '<Domain(s)>' },
  {
    name: 'network-detach',
    modifies: true,
    desc: "Destroy a domain's virtual network device",
    usage: '<Domain> <DevId|mac>',
  },
  {
    name: 'block-attach',
    modifies: true,
    desc: 'Create a new virtual block device',
    usage: '<Domain> <disk-spec-component(s)>...',
  },
  { name: 'block-list', modifies: false, desc: 'List virtual block devices for a domain', usage: '<Domain(s)>' },
  {
    name: 'block-detach',
    modifies: true,
    desc: "Destroy a domain's virtual block device",
    usage: '[option] <Domain> <DevId>',
    options: '-f, --force        do not wait for the domain to release the device',
  },
  {
    name: 'uptime',
    modifies: false,
    desc: 'Print uptime for all/some domains',
    usage: '[-s] [Domain]',
    options: '-s                      Uptime in short format.',
  },
  {
    // Dominion's, not xl's: a service started outside dom0 (compose) exchanges the secret for its domain
    name: 'bootstrap-issue',
    modifies: true,
    desc: 'Register config file <filename> for bootstrap and print a one-time secret for its domain name',
    usage: '<ConfigFile>',
  },
];

export const lookupCommand = (name: string): CommandSpec | undefined => COMMANDS.find((c) => c.name === name);

/** xl.c help(): the whole list for no command (or `help`), else the one command's usage. */
export function helpText(command?: string): string {
  if (!command || command === 'help') {
    const rows = COMMANDS.map(
      (c) => ` ${pad(c.name, 19, true)} ${c.name.length > 19 ? `\n ${pad('', 19)} ` : ''}${c.desc}\n`,
    );
    return `Usage xl [-vfNtT] <subcommand> [args]\n\nxl full list of subcommands:\n\n${rows.join('')}`;
  }
  const c = lookupCommand(command);
  if (!c) return `command "${command}" not implemented\n`;
  return (
    `Usage: xl [-v${c.modifies ? 'f' : ''}] ${c.name} ${c.usage}\n\n${c.desc}.\n\n` +
    (c.options ? `Options:\n\n${c.options}\n` : '')
  );
}
