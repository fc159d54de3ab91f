// The node calls bound to one transaction's id, as transaction(fn) hands them to `fn`.
import type { XsPerm } from '../wire/index.js';
import type { XenstoreClient } from './client.js';

export class XenstoreTransaction {
  constructor(
    private readonly client: XenstoreClient,
    readonly id: number,
  ) {}

  read(path: string): Promise<string> {
    return this.client.read(path, this.id);
  }
  readBytes(path: string): Promise<Buffer> {
    return this.client.readBytes(path, this.id);
  }
  tryRead(path: string): Promise<string | undefined> {
    return this.client.tryRead(path, this.id);
  }
  exists(path: string): Promise<boolean> {
    return this.client.exists(path, this.id);
  }
  write(path: string, value: string | Uint8Array): Promise<void> {
    return this.client.write(path, value, this.id);
  }
  mkdir(path: string): Promise<void> {
    return this.client.mkdir(path, this.id);
  }
  rm(path: string): Promise<void> {
    return this.client.rm(path, this.id);
  }
  directory(path: string): Promise<string[]> {
    return this.client.directory(path, this.id);
  }
  getPerms(path: string): Promise<XsPerm[]> {
    return this.client.getPerms(path, this.id);
  }
  setPerms(path: string, perms: readonly (XsPerm | string)[]): Promise<void> {
    return this.client.setPerms(path, perms, this.id);
  }
}
