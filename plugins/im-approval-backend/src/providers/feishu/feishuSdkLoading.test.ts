import { mockServices } from '@backstage/backend-test-utils';

const mockSdkLoaded = jest.fn();
jest.mock('@larksuiteoapi/node-sdk', () => {
  mockSdkLoaded();
  return jest.requireActual('@larksuiteoapi/node-sdk');
});

describe("Feishu's SDK", () => {
  it('is not loaded with the plugin, only by a long connection being opened', async () => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    require('../../plugin');
    const { openFeishuLongConnection } = require('./feishuLongConnection');
    /* eslint-enable @typescript-eslint/no-require-imports */
    expect(mockSdkLoaded).not.toHaveBeenCalled();

    const connection = await openFeishuLongConnection(
      {
        id: 'feishu-main',
        provider: 'feishu',
        appId: 'cli_0123456789abcdef',
        appSecret: 'secret',
        baseUrl: 'http://127.0.0.1:9',
        connectionMode: 'long-connection',
      },
      mockServices.logger.mock(),
      async () => {},
      { connected() {}, reconnecting() {}, failed() {} },
    );
    expect(mockSdkLoaded).toHaveBeenCalledTimes(1);
    await connection.close();
  });
});
