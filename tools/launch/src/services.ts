// The domains the local launcher starts, in order. Each is a plain Node process of its app's build output.
export interface ServiceSpec {
  /** Name shown in the merged log. */
  name: string;
  /** Path of the built entry point, relative to the repository root. */
  main: string;
  env: Record<string, string>;
}

export function coreServices(stateDir: string): ServiceSpec[] {
  return [
    { name: 'xen', main: 'apps/hypervisor/dist/main.js', env: { DOMINION_STATE_DIR: `${stateDir}/hypervisor` } },
    {
      name: 'dom0',
      main: 'apps/dom0/dist/main.js',
      env: {
        DOMINION_DOMID: '0',
        DOMINION_DOMAIN_NAME: 'Domain-0',
        DOMINION_STATE_DIR: `${stateDir}/dom0`,
        XENSTORED_PATH: `${stateDir}/dom0/xenstored.socket`,
      },
    },
  ];
}
