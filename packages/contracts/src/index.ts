export * from './errors.js';
export * from './subjects.js';
export * from './rpc.js';
export * from './users/fields.js';
export * from './users/user.js';
export * from './users/requests.js';
export * from './users/events.js';
export * from './auth/requests.js';
