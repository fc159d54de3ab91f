// The block service for zvols (libs/proto/block.proto): one bidirectional stream per open volume. Requests
// run as they arrive (the pool serialises what must be), answers go back in completion order with their ids.
// A bad request is answered with its errno and the stream goes on; the volume is held busy (destroy,
// rollback, export: EBUSY) while the stream lives.
import type * as grpc from '@grpc/grpc-js';
import { errnoOf, messageOf } from '@dominion/bus';
import { blockService, type WireBlockRequest, type WireBlockResponse } from '@dominion/zvol';
import { ZfsError, type Volume } from '@dominion/zfs';
import type { Pools } from './pools.js';

type BlockCall = grpc.ServerDuplexStream<WireBlockRequest, WireBlockResponse>;

const MAX_IO = 16 << 20;

export function blockServiceDefinition(
  pools: Pools,
  onError: (e: unknown, where: string) => void = () => undefined,
): { service: grpc.ServiceDefinition; impl: grpc.UntypedServiceImplementation } {
  return {
    service: blockService().service,
    impl: { Connect: (call: BlockCall) => serveStream(pools, call, onError) },
  };
}

function serveStream(pools: Pools, call: BlockCall, onError: (e: unknown, where: string) => void): void {
  let vol: { volume: Volume; release(): void } | undefined;
  let readOnly = false;
  const ok = (id: number, extra: Partial<WireBlockResponse> = {}): WireBlockResponse => ({
    id,
    errno: '',
    message: '',
    data: Buffer.alloc(0),
    ...extra,
  });
  const reply = (r: WireBlockResponse) => {
    if (!call.cancelled && call.writable) call.write(r);
  };
  const run = async (req: WireBlockRequest): Promise<WireBlockResponse> => {
    if (req.op === 'open') {
      if (vol) throw new ZfsError('EINVAL', `request ${req.id}: this stream has ${vol.volume.name} open already`);
      const name = req.open?.volume ?? '';
      vol = pools.openVolume(name);
      const v = vol.volume;
      readOnly = v.readOnly || req.open?.readOnly === true;
      return ok(req.id, { opened: { volume: v.name, size: v.volsize, blockSize: v.volblocksize, readOnly } });
    }
    if (!vol) throw new ZfsError('EINVAL', `request ${req.id}: no volume is open on this stream (open first)`);
    const v = vol.volume;
    if (readOnly && (req.op === 'write' || req.op === 'discard'))
      throw new ZfsError('EROFS', `${v.name}: opened read-only (request ${req.id})`);
    switch (req.op) {
      case 'read': {
        const { offset, length } = req.read!;
        if (length > MAX_IO) throw new ZfsError('EINVAL', `${v.name}: read of ${length} bytes is over ${MAX_IO}`);
        checkRange(v, offset, length);
        return ok(req.id, { data: await v.read(offset, length) });
      }
      case 'write': {
        const { offset, data } = req.write!;
        checkRange(v, offset, data.length);
        await v.write(offset, data);
        return ok(req.id);
      }
      case 'discard': {
        const { offset, length } = req.discard!;
        checkRange(v, offset, length);
        await v.discard(offset, length);
        return ok(req.id);
      }
      case 'flush':
        await v.flush();
        return ok(req.id);
      default:
        throw new ZfsError('EINVAL', `request ${req.id}: no operation`);
    }
  };
  call.on('data', (req: WireBlockRequest) => {
    run(req).then(reply, (e: unknown) => {
      const errno = errnoOf(e);
      if (errno === 'EIO') onError(e, vol?.volume.name ?? 'block stream');
      reply(ok(req.id, { errno, message: messageOf(e) }));
    });
  });
  const end = () => {
    vol?.release();
    vol = undefined;
  };
  call.on('end', () => {
    end();
    call.end();
  });
  call.on('error', end);
  call.on('cancelled', end);
  call.on('close', end);
}

function checkRange(v: Volume, offset: number, length: number): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > v.volsize
  )
    throw new ZfsError(
      'EINVAL',
      `${v.name}: ${length} bytes at ${offset}: past the end of the volume (${v.volsize} bytes)`,
    );
}
