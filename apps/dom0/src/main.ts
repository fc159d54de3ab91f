import { bootstrapDomain } from '@dominion/runtime';
import { Dom0Module } from './dom0.module.js';

await bootstrapDomain('dom0', Dom0Module);
