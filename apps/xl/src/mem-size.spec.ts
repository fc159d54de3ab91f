import { parseMemSizeKb } from './mem-size.js';

describe('parseMemSizeKb (xl_parse.c parse_mem_size_kb)', () => {
  it.each([
    ['256', 262144], // a bare number is MiB
    ['256m', 262144],
    ['256M', 262144],
    ['1g', 1048576],
    ['2t', 2 * 1024 ** 3],
    ['512k', 512],
    ['1048576b', 1024],
    ['1000b', 0], // bytes shift right: rounds down
  ])('%s -> %d KiB', (mem, kb) => {
    expect(parseMemSizeKb(mem)).toBe(kb);
  });

  it.each(['', 'm', '12x', '12mb', '1.5g', 'abc'])('refuses %j', (mem) => {
    expect(parseMemSizeKb(mem)).toBeUndefined();
  });
});
