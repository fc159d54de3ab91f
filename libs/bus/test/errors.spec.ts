import { errnoOf, errnoOfGrpcStatus, grpcStatusOf, xsdErrorOf, GRPC_STATUS } from '../src/index.js';

describe('one error, three wires', () => {
  it('maps errnos onto gRPC status codes (numbers from google/rpc/code.proto)', () => {
    expect(grpcStatusOf('EINVAL')).toBe(3);
    expect(grpcStatusOf('ENOENT')).toBe(5);
    expect(grpcStatusOf('EEXIST')).toBe(6);
    expect(grpcStatusOf('EPERM')).toBe(7);
    expect(grpcStatusOf('ENOMEM')).toBe(8);
    expect(grpcStatusOf('EAGAIN')).toBe(10);
    expect(grpcStatusOf('ENOSYS')).toBe(12);
    expect(grpcStatusOf('EIO')).toBe(13);
    expect(errnoOfGrpcStatus(GRPC_STATUS.NOT_FOUND)).toBe('ENOENT');
    expect(errnoOfGrpcStatus(999)).toBe('EIO');
  });
  it('folds errnos outside xsd_errors[] onto XenStore names', () => {
    expect(xsdErrorOf('EACCES')).toBe('EACCES');
    expect(xsdErrorOf('EAGAIN')).toBe('EAGAIN');
    expect(xsdErrorOf('ESRCH')).toBe('ENOENT');
    expect(xsdErrorOf('EOPNOTSUPP')).toBe('ENOSYS');
    expect(xsdErrorOf('ETIMEDOUT')).toBe('EIO');
  });
  it('keeps a library error kind and turns anything else into EIO', () => {
    expect(errnoOf({ kind: 'ENOSPC' })).toBe('ENOSPC');
    expect(errnoOf(new Error('x'))).toBe('EIO');
    expect(errnoOf({ kind: 'quota' })).toBe('EIO');
  });
});
