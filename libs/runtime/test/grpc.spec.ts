import * as grpc from '@grpc/grpc-js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BusError } from '@dominion/bus';
import { fromGrpcError, loadProto, startGrpcServer, toGrpcError } from '../src/index.js';

const proto = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'echo.proto');

describe('gRPC wiring', () => {
  it('binds :0, reports the port, serves unary and bidi streams, and carries errnos', async () => {
    const pkg = loadProto(proto) as any;
    const Echo = pkg.dominion.test.Echo;
    const host = await startGrpcServer('127.0.0.1:0', [
      {
        service: Echo.service,
        impl: {
          Say: (call: any, cb: any) =>
            call.request.text === 'bad'
              ? cb(toGrpcError(new BusError('ENOENT', 'no such thing: bad')))
              : cb(null, { text: call.request.text.toUpperCase() }),
          Stream: (call: any) => {
            call.on('data', (m: any) => call.write({ text: `<${m.text}>` }));
            call.on('end', () => call.end());
          },
        },
      },
    ]);
    expect(host.port).toBeGreaterThan(0);
    const client = new Echo(host.address, grpc.credentials.createInsecure());
    const pong = await new Promise<any>((res, rej) =>
      client.Say({ text: 'hi' }, (e: any, r: any) => (e ? rej(e) : res(r))),
    );
    expect(pong.text).toBe('HI');

    const err = await new Promise<grpc.ServiceError>((res) => client.Say({ text: 'bad' }, (e: any) => res(e)));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(fromGrpcError(err)).toMatchObject({ kind: 'ENOENT', message: 'no such thing: bad' });

    const call = client.Stream();
    const got: string[] = [];
    const done = new Promise<void>((r) => call.on('end', r));
    call.on('data', (m: any) => got.push(m.text));
    for (const t of ['a', 'b', 'c']) call.write({ text: t });
    call.end();
    await done;
    expect(got).toEqual(['<a>', '<b>', '<c>']);
    client.close();
    await host.close();
  });
});
