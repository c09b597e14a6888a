// Fixtures and clients for tests of the sandbox and of what talks to it: `@im-approval/im-sandbox/testing`.
export * from './dingtalk';
export * from './lark';
export * from './receiver';
export * from './sandbox';
export * from './wecom';
