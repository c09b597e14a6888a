import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { z } from 'zod';
import { acceptWebSockets } from './delivery/websockets';
import { dingtalkApi } from './dingtalk/api';
import { dingtalkControlApi } from './dingtalk/control';
import { DingtalkPlatform } from './dingtalk/platform';
import { dingtalkSeedSchema } from './dingtalk/seed';
import { feishuOpenApi } from './feishu/api';
import { controlApi } from './feishu/control';
import { feishuRetryDelaysMs } from './feishu/events';
import { feishuClientConfigSchema } from './feishu/longConnection';
import { FeishuPlatform } from './feishu/platform';
import { feishuSeedSchema } from './feishu/seed';
import { dingtalkInbox, dingtalkInboxChats } from './dingtalk/inboxSource';
import { feishuInbox, feishuInboxChats } from './feishu/inboxSource';
import { githubApi } from './github/githubApi';
import { githubControlApi } from './github/githubControl';
import {
  githubAppSeedSchema,
  GithubPlatform,
  type GithubAppSeed,
} from './github/githubPlatform';
import { allChats, inbox } from './inbox';
import { SandboxStateFile } from './persistence/stateFile';
import { describeIssues } from './validation';
import { wecomApi } from './wecom/api';
import { wecomControlApi } from './wecom/control';
import { wecomInbox, wecomInboxChats } from './wecom/inboxSource';
import { WecomPlatform } from './wecom/platform';
import { wecomSeedSchema } from './wecom/seed';

export const sandboxSeedSchema = z.object({
  feishu: feishuSeedSchema.optional(),
  dingtalk: dingtalkSeedSchema.optional(),
  wecom: wecomSeedSchema.optional(),
  github: githubAppSeedSchema.optional(),
});
export type SandboxSeed = z.input<typeof sandboxSeedSchema>;

export interface SandboxOptions {
  /** 0 (the default) takes any free port. */
  port?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
  seed?: SandboxSeed;
  log?: (line: string) => void;
  /**
   * Waits before each redelivery of a callback that was not acknowledged; the number of entries
   * is the number of retries. Feishu waits 15 s, 5 min, 1 h and 6 h; the default keeps that
   * shape at test speed.
   */
  callbackRetryDelaysMs?: number[];
  /**
   * Runs the IMs' own redelivery schedules at this fraction of real time: Feishu's 15 s, 5 min,
   * 1 h and 6 h become 15 ms, 300 ms, 3.6 s and 21.6 s at 0.001 (feishuRetryDelaysMs). Only
   * Feishu has a schedule of its own in the sandbox; DingTalk and WeCom keep callbackRetryDelaysMs
   * (or its default). Without it, every IM waits callbackRetryDelaysMs.
   */
  timeScale?: number;
  /** How long an event pushed over a long connection waits for its ack before it is pushed again (default 3000). */
  longConnectionAckTimeoutMs?: number;
  /** The client config Feishu's long-connection endpoint hands out (seconds; defaults are Feishu's). */
  feishuClientConfig?: z.input<typeof feishuClientConfigSchema>;
  /** How often the DingTalk Stream gateway pings its clients (default 30000). */
  dingtalkStreamPingIntervalMs?: number;
  /**
   * Keeps the IMs' instances, people, apps and delivery logs in this file across restarts: read at
   * start (over the seed), written every `stateSaveIntervalMs` when they changed, and at close.
   * Without it the sandbox forgets everything when it stops.
   */
  stateFile?: string;
  /** Default 1000. */
  stateSaveIntervalMs?: number;
  /** The GitHub App the sandbox's GitHub (at `<url>/api/v3`) has installed, over the seed's. */
  github?: GithubAppSeed;
}

export interface Sandbox {
  /** Where it listens, e.g. http://127.0.0.1:54321: every IM's base URL (Feishu, DingTalk new and old API, WeCom), and the inbox. */
  url: string;
  /** Its GitHub: the App's credentials, held jobs and webhook deliveries. */
  github: GithubPlatform;
  /** Stops listening, closes long connections and cancels pending deliveries and retries. */
  close(): Promise<void>;
}

const DEFAULT_RETRY_DELAYS_MS = [250, 1000, 4000, 10_000];
const DEFAULT_ACK_TIMEOUT_MS = 3000;
const DEFAULT_STREAM_PING_INTERVAL_MS = 30_000;
// A wildcard address is not somewhere a client can go; its loopback is.
const LOOPBACK_FOR_WILDCARD: Record<string, string> = {
  '0.0.0.0': '127.0.0.1',
  '::': '::1',
};

export async function startSandbox(
  options: SandboxOptions = {},
): Promise<Sandbox> {
  const seed = sandboxSeedSchema.safeParse(options.seed ?? {});
  if (!seed.success)
    throw new Error(
      `invalid sandbox seed: ${describeIssues(seed.error, 'seed')}`,
    );
  const clientConfig = feishuClientConfigSchema.safeParse(
    options.feishuClientConfig ?? {},
  );
  if (!clientConfig.success) {
    throw new Error(
      `invalid sandbox options: ${describeIssues(clientConfig.error, 'feishuClientConfig')}`,
    );
  }
  const log = options.log ?? (() => {});
  const { timeScale } = options;
  if (
    timeScale !== undefined &&
    !(Number.isFinite(timeScale) && timeScale > 0)
  ) {
    throw new Error(
      `invalid sandbox options: timeScale must be a positive number, got ${timeScale}`,
    );
  }
  const retryDelaysMs =
    options.callbackRetryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const feishuRetryDelays =
    timeScale === undefined ? retryDelaysMs : feishuRetryDelaysMs(timeScale);
  const ackTimeoutMs =
    options.longConnectionAckTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
  const feishu = new FeishuPlatform(seed.data.feishu ?? {}, {
    retryDelaysMs: feishuRetryDelays,
    ackTimeoutMs,
    clientConfig: clientConfig.data,
    log,
  });
  const dingtalk = new DingtalkPlatform(seed.data.dingtalk ?? {}, {
    retryDelaysMs,
    ackTimeoutMs,
    streamPingIntervalMs:
      options.dingtalkStreamPingIntervalMs ?? DEFAULT_STREAM_PING_INTERVAL_MS,
    log,
  });
  const wecom = new WecomPlatform(seed.data.wecom ?? {}, {
    retryDelaysMs,
    log,
  });
  const github = new GithubPlatform(
    { ...seed.data.github, ...options.github },
    log,
  );
  const platforms = [feishu, dingtalk, wecom, github];
  const stateFile = options.stateFile
    ? new SandboxStateFile(options.stateFile, { feishu, dingtalk, wecom })
    : undefined;
  if (stateFile?.load())
    log(`IM sandbox: state restored from ${stateFile.path}`);

  const app = express();
  app.disable('x-powered-by');
  app.use('/open-apis', feishuOpenApi(feishu));
  app.use(feishu.longConnection.endpoint());
  app.use(dingtalkApi(dingtalk));
  app.use(dingtalk.stream.gateway());
  app.use(wecomApi(wecom));
  app.use('/_sandbox/feishu', controlApi(feishu));
  app.use('/_sandbox/dingtalk', dingtalkControlApi(dingtalk));
  app.use('/_sandbox/wecom', wecomControlApi(wecom));
  app.use('/api/v3', githubApi(github));
  app.use('/_sandbox/github', githubControlApi(github));
  app.post('/_sandbox/reset', (_req, res) => {
    platforms.forEach(platform => platform.reset());
    res.status(204).end();
  });
  app.use(
    inbox(
      [feishuInbox(feishu), dingtalkInbox(dingtalk), wecomInbox(wecom)],
      allChats([
        feishuInboxChats(feishu),
        dingtalkInboxChats(dingtalk),
        wecomInboxChats(wecom),
      ]),
    ),
  );

  const server = http.createServer(app);
  const websockets = acceptWebSockets(server, [
    feishu.longConnection.route(),
    dingtalk.stream.route(),
  ]);
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;
  const reachable = LOOPBACK_FOR_WILDCARD[address] ?? address;
  const save = () => {
    try {
      stateFile?.save();
    } catch (error) {
      log(
        `IM sandbox: cannot save the state to ${stateFile?.path}: ${(error as Error).message}`,
      );
    }
  };
  const saving = stateFile
    ? setInterval(save, options.stateSaveIntervalMs ?? 1000)
    : undefined;
  saving?.unref();

  const url = `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
  github.apiUrl = `${url}/api/v3`;
  return {
    url,
    github,
    async close() {
      clearInterval(saving);
      save();
      platforms.forEach(platform => platform.close());
      websockets.close();
      const closed = new Promise(resolve => server.close(resolve));
      server.closeAllConnections();
      await closed;
    },
  };
}
