import type { HumanDuration } from '@backstage/types';

export interface Config {
  imApproval?: {
    github?: {
      /** The GitHub web URL, for links to workflow runs. Default https://github.com. */
      serverUrl?: string;
      /** Who may open approvals with a GitHub Actions OIDC token. Without it, only Backstage tokens are accepted. */
      oidc?: {
        /** Default https://token.actions.githubusercontent.com (GitHub.com). */
        issuer?: string;
        /** Default `<issuer>/.well-known/jwks`. */
        jwksUrl?: string;
        /** The audience the Action requests its token for. Default `im-approval`. */
        audience?: string;
        /** Repository owners (organisations or users) whose workflows may call. */
        allowedOwners: string[];
      };
      /**
       * The backend as a GitHub App, for deployment gates (custom deployment protection rules):
       * GitHub holds a job that targets a gated environment and asks this app, no runner waiting.
       */
      app?: {
        /** The App ID (or its client ID) from the App's settings page. */
        appId: string | number;
        /**
         * The App's private key (the downloaded PEM file's text).
         * @visibility secret
         */
        privateKey: string;
        /**
         * The App's webhook secret: deliveries not signed with it are refused.
         * @visibility secret
         */
        webhookSecret: string;
        /** Default https://api.github.com; GitHub Enterprise Server: https://HOST/api/v3. */
        apiBaseUrl?: string;
      };
    };

    /**
     * Deployment gates: which GitHub environments, in which repositories, wait for an IM approval
     * from which template. The first gate that covers a job's environment applies.
     */
    gates?: Array<{
      name: string;
      /** Environment names or glob patterns (`production`, `prod-*`). */
      environments: string[];
      /** `owner/name` globs; absent means every repository the App is installed on. */
      repositories?: string[];
      template: string;
      /** `vars.NAME` values for the template, beside `vars.event` and `vars.pullRequests`; may use the run's `$${…}` values. */
      variables?: { [name: string]: string };
      /** How long approvers have (`2h`, `3d`); the template's default when absent. */
      timeout?: string | number;
    }>;

    /**
     * How often pending approvals are read from the IM, in case a callback was lost (and the only
     * way decisions arrive in `poll` mode). Each pass reads at most what the IM's rate limit allows per integration.
     */
    reconciler?: {
      /** Default every 30 seconds. */
      frequency?: HumanDuration | string;
      /** Pending approvals read per pass. Default 200. */
      batchSize?: number;
    };

    /** How often approvals past their deadline are expired. Default every 30 seconds. */
    expiry?: {
      frequency?: HumanDuration | string;
    };

    /**
     * How often reminders (a template's `remindAfter`) and escalations (`escalateAfter`) that are
     * due are sent: each fires at most this late, and once across replicas. Default every 30 seconds.
     */
    reminders?: {
      frequency?: HumanDuration | string;
    };

    /** Long-polls: `GET /approvals/{id}/wait`, as the Action waits. */
    longPolls?: {
      /**
       * How often a held long-poll gets a heartbeat: a space before its JSON answer, so that proxies
       * and load balancers that drop a silent connection keep it open. Keep it under the shortest
       * idle timeout between the Action and Backstage. Default 30 seconds.
       */
      heartbeat?: HumanDuration | string;
    };

    callbacks?: {
      /** Callbacks whose signed timestamp is older (or further ahead) than this are rejected. Default 300. */
      maxAgeSeconds?: number;
    };

    /**
     * `documented` (the default): calls to each IM app keep to the IM's documented rate limits,
     * spaced by one budget per app shared by every caller. `off`: calls go out as they come and
     * the IM's throttling answers are retried later, for tenants with raised quotas and for tests
     * against a sandbox whose limits are raised.
     */
    imRateLimits?: 'documented' | 'off';

    /**
     * Encrypts the secrets of IM apps managed in the UI (AES-256-GCM): 32 random bytes as base64
     * (`openssl rand -base64 32`) or 64 hex digits. Stored secrets remember the key's id, `default`.
     * Without it, IM apps can be defined in app-config only.
     * @visibility secret
     */
    secretsKey?: string;

    /**
     * Instead of secretsKey, for rotation: the first key encrypts, every key listed decrypts, and
     * at start-up secrets under older keys are re-encrypted with the first. Keep the old key listed
     * until every replica runs with the new list. (A secretsKey's id is `default`.)
     */
    secretsKeys?: Array<{
      id: string;
      /** @visibility secret */
      key: string;
    }>;

    /** IM apps. Read-only here; the UI adds database-managed ones. */
    integrations?: Array<
      | {
          /** Appears in the callback URL: /api/im-approval/callbacks/feishu/<id>. */
          id: string;
          provider: 'feishu';
          title?: string;
          /** `feishu` (default) or `lark`. */
          domain?: 'feishu' | 'lark';
          /** Overrides the domain's API base URL (private deployments, the IM sandbox). */
          baseUrl?: string;
          /** A self-built app's App ID (cli_ and 16 hex digits for long connections). */
          appId: string;
          /** @visibility secret */
          appSecret: string;
          /** @visibility secret */
          verificationToken: string;
          /**
           * The Encrypt Key from Events and callbacks → Encryption strategy. Required when
           * connectionMode is `callback` (Feishu then encrypts and signs callbacks); the backend
           * refuses to start without it.
           * @visibility secret
           */
          encryptKey?: string;
          /** `callback` (default), `long-connection` (no public URL needed) or `poll`. */
          connectionMode?: 'callback' | 'long-connection' | 'poll';
          /** The user the app opens approvals for: open_id, email or mobile. */
          initiator: string;
          /** A link to an instance, with `{instanceId}` in it. */
          instanceUrl?: string;
        }
      | {
          /** Appears in the callback URL: /api/im-approval/callbacks/dingtalk/<id>. */
          id: string;
          provider: 'dingtalk';
          title?: string;
          /** The new API. Default https://api.dingtalk.com; the Stream gateway is opened there too. */
          baseUrl?: string;
          /** The legacy API. Default https://oapi.dingtalk.com. */
          legacyBaseUrl?: string;
          /** AppKey (Client ID). */
          appKey: string;
          /**
           * AppSecret (Client Secret).
           * @visibility secret
           */
          appSecret: string;
          /**
           * The event subscription's token; required for `callback`.
           * @visibility secret
           */
          token?: string;
          /**
           * The event subscription's aes_key (43 characters); required for `callback`.
           * @visibility secret
           */
          aesKey?: string;
          /** The app's AgentId, sent with new instances. */
          agentId?: number;
          /**
           * The card template (built and published in DingTalk's card designer) group chat cards
           * are made from; cards need `stream`.
           */
          cardTemplateId?: string;
          /** `callback` (default), `stream` (no public URL needed) or `poll`. */
          connectionMode?: 'callback' | 'stream' | 'poll';
          /** The user the app opens approvals for: a DingTalk userId or a mobile. */
          initiator: string;
          /** A link to an instance, with `{instanceId}` in it. */
          instanceUrl?: string;
        }
      | {
          /** Appears in the callback URL: /api/im-approval/callbacks/wecom/<id>. */
          id: string;
          provider: 'wecom';
          title?: string;
          /** Default https://qyapi.weixin.qq.com (private deployments, the IM sandbox). */
          baseUrl?: string;
          corpId: string;
          /** The self-built app's AgentID. */
          agentId: number;
          /**
           * The self-built app's Secret.
           * @visibility secret
           */
          secret: string;
          /**
           * From the app's "receive messages" settings; required for `callback`.
           * @visibility secret
           */
          token?: string;
          /**
           * From the app's "receive messages" settings (43 characters); required for `callback`.
           * @visibility secret
           */
          encodingAESKey?: string;
          /** `callback` (default) or `poll` (no public URL: the reconciler reads pending requests). */
          connectionMode?: 'callback' | 'poll';
          /** The user the app opens approvals for: a WeCom userid, an email or a mobile. */
          initiator: string;
          /** A link to an instance, with `{instanceId}` in it. */
          instanceUrl?: string;
        }
    >;

    templates?: Array<{
      name: string;
      description?: string;
      integration: string;
      /**
       * Feishu approval_code, DingTalk processCode or WeCom template_id of an existing form; or
       * `{ create: true }` for a form the backend creates in the IM (and keeps in step) with the
       * template's fields and one approver node per stage.
       */
      form: string | { create: true };
      /** May use `${…}` variables. */
      title?: string;
      /** IM form field (id or name) to text with `${…}` variables. */
      fields?: { [field: string]: string };
      /**
       * Catalog refs (`user:default/alice`, `group:default/release-managers`, members of nested
       * groups included), IM user ids, emails or mobiles.
       */
      approvers?: string[];
      approverMode?: 'all' | 'any';
      /** Several steps in order, instead of approvers and approverMode. */
      stages?: Array<{
        /** As approvers see the node in the IM, e.g. "Team lead". */
        name?: string;
        /** Like approvers above. */
        approvers: string[];
        /** All of them must approve (the default), or any one. */
        rule?: 'all' | 'any';
        /** Instead of rule: this many of them must approve. */
        atLeast?: number;
      }>;
      /** Told of each request and able to see it, never asked to decide (抄送); written like approvers. */
      cc?: string[];
      allowApproverOverride?: boolean;
      /** Whether the person who asks may be an approver of their own request; they are removed by default. */
      allowSelfApproval?: boolean;
      initiator?: string;
      /** e.g. 1h. */
      defaultTimeout?: string;
      /** e.g. 7d. */
      maxTimeout?: string;
      policy?: {
        repositories?: string[];
        refs?: string[];
        environments?: string[];
      };
    }>;
  };
}
