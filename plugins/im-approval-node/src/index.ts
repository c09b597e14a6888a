export * from './crypto';
export * from './errors';
export * from './providers';
