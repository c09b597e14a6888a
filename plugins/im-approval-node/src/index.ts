export * from './crypto';
export * from './errors';
export * from './extensions';
export * from './providers';
