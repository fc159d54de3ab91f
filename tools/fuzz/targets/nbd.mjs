// An NBD client's bytes (the handshake, options, then requests) fed to a server connection over a 1 MiB
// memory export, in chunks the first byte picks. The connection may close on nonsense; an "internal error"
// close, a stray rejection or unbounded output is a finding.
import { NbdServerConnection } from '@dominion/nbd';
import { bound } from './own-error.mjs';
import { settle } from './settle.mjs';

const SIZE = 1 << 20;

// The connection turns an export's failure into an NBD error reply, so breaches are collected, not thrown.
function memoryExport(breaches) {
  const disk = Buffer.alloc(SIZE);
  const inside = (ok, what) => {
    if (!ok) breaches.push(what);
  };
  return {
    size: SIZE,
    readOnly: false,
    canMultiConn: true,
    description: 'fuzz',
    async read(offset, length) {
      inside(offset >= 0 && offset + length <= SIZE, `read ${offset}+${length} reached the export`);
      return Buffer.from(disk.subarray(offset, offset + length));
    },
    async write(offset, data) {
      inside(offset >= 0 && offset + data.length <= SIZE, `write ${offset}+${data.length} reached the export`);
      disk.set(data, offset);
    },
    async flush() {},
    async trim(offset, length) {
      inside(offset >= 0 && offset + length <= SIZE, `trim ${offset}+${length} reached the export`);
    },
    async writeZeroes(offset, length) {
      inside(offset >= 0 && offset + length <= SIZE, `write-zeroes ${offset}+${length} reached the export`);
      disk.fill(0, offset, offset + length);
    },
    async blockStatus(offset, length) {
      inside(offset >= 0 && offset + length <= SIZE, `block-status ${offset}+${length} reached the export`);
      return [{ length: Math.min(length, SIZE - offset) || 1, flags: 0 }];
    },
  };
}

export async function fuzz(data) {
  if (data.length < 1) return;
  let out = 0;
  const internal = [];
  const breaches = [];
  const conn = new NbdServerConnection(
    {
      write(b) {
        out += b.length;
        return true;
      },
      end() {},
    },
    {
      exports: new Map([['disk', memoryExport(breaches)]]),
      defaultExport: 'disk',
      maxRequestBytes: 256 * 1024,
      log: (e) => {
        if (e.message.includes('internal error')) internal.push(e.message);
      },
    },
  );
  conn.start();
  const step = 1 + (data[0] % 64);
  const rest = data.subarray(1);
  for (let i = 0; i < rest.length && !conn.closed; i += step) {
    conn.push(rest.subarray(i, i + step));
    await settle(2);
  }
  await settle();
  bound(internal.length === 0, internal.join('; '));
  bound(breaches.length === 0, breaches.join('; '));
  bound(out <= 64 * 1024 * 1024, `${out} bytes of replies`);
  conn.close();
}
