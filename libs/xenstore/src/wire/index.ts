export * from './fields.js';
export * from './message.js';
export * from './parser.js';
export * from './perms.js';
export * from './requests.js';
export * from './replies.js';
