// The benchmark's server process: the built library wired to node:net as an app would wire it, with no
// Jest (and its promise hooks) in the process. Usage: node serve.mjs <file> <port>; prints "ready".
import { createServer } from 'node:net';
import { NodeFileIO } from '@dominion/fsio';
import { FileNbdExport, NbdServerConnection } from '../dist/index.js';

const [path, port] = process.argv.slice(2);
const disk = await FileNbdExport.open(new NodeFileIO(), path);
// Learn the allocation map once (a long-running server has it already), so no run pays for the scan.
for (let at = 0; at < disk.size;) {
  for (const e of await disk.blockStatus(at, disk.size - at)) at += e.length;
}
const exports = new Map([['disk', disk]]);
const server = createServer((sock) => {
  sock.setNoDelay(true);
  const conn = new NbdServerConnection(
    {
      write: (b) => sock.write(b),
      end: () => sock.end(),
      pause: () => sock.pause(),
      resume: () => sock.resume(),
      cork: () => sock.cork(),
      uncork: () => sock.uncork(),
    },
    { exports, defaultExport: 'disk', log: (e) => e.level === 'warn' && console.error(e.message) },
  );
  sock.on('data', (d) => conn.push(d));
  sock.on('drain', () => conn.drain());
  sock.on('close', () => conn.close());
  sock.on('error', () => sock.destroy());
  conn.start();
});
server.listen(Number(port), '127.0.0.1', () => console.log('ready'));
process.on('disconnect', () => process.exit(0));
