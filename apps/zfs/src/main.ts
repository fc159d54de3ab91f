import { bootstrapDomain } from '@dominion/runtime';
import { AppModule } from './app.module.js';

await bootstrapDomain('zfs', AppModule);
