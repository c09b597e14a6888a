import axios from 'axios';
import { DWClient } from 'dingtalk-stream';
import type { Sandbox } from '../../server';
import { control, waitFor } from '../../testing/sandbox';

const GATEWAY = 'https://api.dingtalk.com/v1.0/gateway/connections/open';

/**
 * Sends the official dingtalk-stream SDK's gateway request to the sandbox (the SDK has the URL
 * built in) and quiets its console logging; answers how to undo both.
 */
export function routeSdkToSandbox(sandbox: Sandbox): () => void {
  const interceptor = axios.interceptors.request.use(config =>
    config.url === GATEWAY
      ? { ...config, url: `${sandbox.url}/v1.0/gateway/connections/open` }
      : config,
  );
  const info = jest.spyOn(console, 'info').mockImplementation(() => undefined);
  return () => {
    axios.interceptors.request.eject(interceptor);
    info.mockRestore();
  };
}

/**
 * A `DWClient` of the app, its listeners registered by `listen` before it connects (the SDK
 * subscribes to what is registered then), once the sandbox counts its connection.
 */
export async function connectedSdk(
  sandbox: Sandbox,
  app: { appKey: string; appSecret: string },
  listen: (client: DWClient) => void,
): Promise<DWClient> {
  const client = new DWClient({
    clientId: app.appKey,
    clientSecret: app.appSecret,
  });
  listen(client);
  await client.connect();
  await waitFor(
    'the Stream connection',
    async () =>
      (await control(sandbox).get('/dingtalk/stream')).body[0]?.connections ===
      1,
  );
  return client;
}
