import axios from 'axios';
import type { Sandbox } from '../../server';

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
