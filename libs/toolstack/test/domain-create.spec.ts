import { parseDomainConfigText } from '@dominion/xlcfg';
import { createDomainArgs, controlShutdownPath, guestReadyPath } from '@dominion/toolstack';

describe('createDomainArgs', () => {
  it('turns the MiB of xl.cfg into the KiB of createdomain, with libxl defaults filled in', () => {
    const { config } = parseDomainConfigText('name = "g"\nmemory = 64\nmaxmem = 128\nvcpus = 2\n', { source: 'g.cfg' });
    const uuid = '01234567-89ab-cdef-0123-456789abcdef';
    expect(createDomainArgs(config, uuid)).toEqual({
      name: 'g',
      uuid,
      type: config.type,
      target_memkb: 65536,
      max_memkb: 131072,
      vcpus: 2,
      weight: 256,
      cap: 0,
      driver_domain: false,
      max_event_channels: 1023,
    });
  });

  it('driver_domain=1 reaches the hypervisor', () => {
    const { config } = parseDomainConfigText('name = "d"\ndriver_domain = 1\n', { source: 'd.cfg' });
    expect(createDomainArgs(config, '01234567-89ab-cdef-0123-456789abcdef').driver_domain).toBe(true);
  });

  it('names the control nodes under the domain home', () => {
    expect(guestReadyPath(7)).toBe('/local/domain/7/control/feature-poweroff');
    expect(controlShutdownPath(7)).toBe('/local/domain/7/control/shutdown');
  });
});
