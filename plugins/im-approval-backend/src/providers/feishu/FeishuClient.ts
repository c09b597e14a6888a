import type { FeishuIntegration } from '@im-approval/plugin-im-approval-common';
import {
  ImApiError,
  type ImCallbackRequest,
  type ImClient,
  type ImConnectionObserver,
  type ImEventHandler,
  type ImFormField,
  type ImInstanceRequest,
  type ImInstanceState,
  type ImProviderDeps,
} from '@im-approval/plugin-im-approval-node';
import { z } from 'zod';
import { fillForm } from '../formFields';
import { instanceRef } from '../instanceRef';
import { FeishuApi } from './FeishuApi';
import { parseFeishuCallback } from './feishuCallback';
import { openFeishuLongConnection } from './feishuLongConnection';
import {
  DECIDING_TIMELINE_TYPES,
  FEISHU_INSTANCE_STATUS,
} from './feishuStatus';
import { PersonNames } from '../api/PersonNames';
import { TtlCache } from '../api/TtlCache';
import { UserIdResolver, type ContactKind } from '../api/UserIdResolver';

const DEFINITION_TTL_MS = 5 * 60_000;

/** Instance create: the uuid already created an instance; Feishu does not say which (im-protocols.md 1.3). */
export const FEISHU_UUID_CONFLICT = 60012;
/** The key of the instance title: Feishu takes a title only as an i18n key starting with @i18n@. */
export const FEISHU_TITLE_KEY = '@i18n@title';

/**
 * The title as Feishu takes it: an i18n key, with its text in the default locale (Chinese on
 * Feishu, English on Lark) and, so every reader sees it, in the other locales too.
 */
export function feishuTitle(title: string, domain: 'feishu' | 'lark') {
  const locales =
    domain === 'lark'
      ? ['en-US', 'zh-CN', 'ja-JP']
      : ['zh-CN', 'en-US', 'ja-JP'];
  return {
    title: FEISHU_TITLE_KEY,
    i18n_resources: locales.map((locale, index) => ({
      locale,
      is_default: index === 0,
      texts: [{ key: FEISHU_TITLE_KEY, value: title }],
    })),
  };
}

/** The definition's `form` is a JSON string of widgets; parsed once, when the definition is read. */
const formSchema = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'the form is not JSON' });
      return z.NEVER;
    }
  })
  .pipe(
    z.array(
      z.object({
        id: z.string(),
        name: z.string().optional().default(''),
        type: z.string(),
        required: z.boolean().optional().default(false),
      }),
    ),
  );

const definitionSchema = z.object({
  approval_name: z.string(),
  status: z.string().optional(),
  form: formSchema,
  node_list: z.array(
    z.object({
      name: z.string().optional().default(''),
      node_id: z.string(),
      custom_node_id: z.string().optional(),
      node_type: z.string().optional(),
      need_approver: z.boolean().optional(),
      /** false: the initiator may choose only one approver for the node. */
      approver_chosen_multi: z.boolean().optional(),
    }),
  ),
});
type Definition = z.output<typeof definitionSchema>;

const instanceSchema = z.object({
  approval_code: z.string(),
  instance_code: z.string().optional(),
  status: z.string(),
  open_id: z.string().optional(),
  timeline: z
    .array(
      z.object({
        type: z.string(),
        open_id: z.string().optional(),
        comment: z.string().optional(),
        create_time: z.string().optional(),
      }),
    )
    .optional()
    .default([]),
});
type Instance = z.infer<typeof instanceSchema>;

const userIdsSchema = z.object({
  user_list: z
    .array(
      z.object({
        user_id: z.string().optional(),
        email: z.string().optional(),
        mobile: z.string().optional(),
      }),
    )
    .optional()
    .default([]),
});
const userSchema = z.object({
  user: z.object({ name: z.string().optional() }),
});

/** The approver mode a Feishu node's type fixes: AND (all must approve), OR (any one may); none for other types. */
function approverModeOfNode(
  nodeType: string | undefined,
): 'all' | 'any' | undefined {
  if (nodeType === 'AND') return 'all';
  if (nodeType === 'OR') return 'any';
  return undefined;
}

export class FeishuClient implements ImClient {
  private readonly api: FeishuApi;
  private readonly definitions = new TtlCache<Definition>(DEFINITION_TTL_MS);
  private readonly users: UserIdResolver;
  private readonly people: PersonNames;
  private readonly subscribed = new Set<string>();

  constructor(
    private readonly integration: FeishuIntegration,
    private readonly deps: ImProviderDeps,
  ) {
    this.api = new FeishuApi(integration, deps.logger, deps.keepToRateLimits);
    this.people = new PersonNames(async openId => {
      const { user } = await this.api.call(
        {
          operation: 'read a user',
          method: 'GET',
          path: `/open-apis/contact/v3/users/${encodeURIComponent(openId)}`,
          query: { user_id_type: 'open_id' },
        },
        userSchema,
      );
      return user.name;
    });
    this.users = new UserIdResolver(
      contacts => this.lookUpUsers(contacts),
      (kind, value) =>
        `No Feishu user with ${kind} ${value} is visible to app ${integration.appId}; ` +
        "check the spelling and that the person is inside the app's contact scope",
    );
  }

  verifyCredentials() {
    return this.api.verifyCredentials();
  }

  async describeForm(formId: string): Promise<ImFormField[]> {
    return (await this.definition(formId)).form;
  }

  /**
   * Whether a template fits the approval definition's approver node, before any instance is asked
   * for: throws `invalid_request` with the reason (no node takes chosen approvers, the node's AND/OR
   * differs from approverMode, or the node takes one approver and the template lists several).
   * Template checks can call it on save; createInstance always does.
   */
  async checkTemplate(
    template: Pick<ImInstanceRequest, 'form' | 'approvers' | 'approverMode'>,
  ) {
    return this.approverNode(await this.definition(template.form), template);
  }

  private approverNode(
    definition: Definition,
    request: Pick<ImInstanceRequest, 'form' | 'approvers' | 'approverMode'>,
  ) {
    const node = definition.node_list.find(n => n.need_approver);
    if (!node) {
      throw new ImApiError(
        'invalid_request',
        `Feishu approval "${request.form}" has no node whose approvers are chosen per request; add one (approvers: chosen by the initiator)`,
      );
    }
    const nodeMode = approverModeOfNode(node.node_type);
    if (nodeMode && nodeMode !== request.approverMode) {
      throw new ImApiError(
        'invalid_request',
        `The template asks for ${request.approverMode} approvers, but Feishu approval "${request.form}" node "${node.name}" is ${node.node_type} ` +
          `(${nodeMode} must approve); change the node in Feishu or set the template's approverMode to ${nodeMode}`,
      );
    }
    if (node.approver_chosen_multi === false && request.approvers.length > 1) {
      throw new ImApiError(
        'invalid_request',
        `Feishu approval definition "${request.form}"'s node "${node.name || node.node_id}" takes one approver; the template lists ${request.approvers.length} ` +
          `(${request.approvers.join(', ')}); list one approver, or allow several in the node's settings in Feishu`,
      );
    }
    return node;
  }

  async createInstance(request: ImInstanceRequest) {
    const definition = await this.definition(request.form);
    const node = this.approverNode(definition, request);
    const { filled, labels } = fillForm(
      definition.form,
      request.fields,
      `Feishu approval "${request.form}"`,
    );
    const form = filled.map(({ imField, value }) => ({
      id: imField.id,
      type: imField.type,
      value,
    }));
    const [initiator, approvers] = await Promise.all([
      this.users
        .resolve([request.initiator ?? this.integration.initiator])
        .then(ids => ids[0]),
      this.users.resolve(request.approvers),
      this.subscribe(request.form),
    ]);
    const uuid = request.approvalId;
    try {
      const created = await this.api.call(
        {
          operation: 'create an approval instance',
          method: 'POST',
          path: '/open-apis/approval/v4/instances',
          body: {
            approval_code: request.form,
            open_id: initiator,
            form: JSON.stringify(form),
            node_approver_open_id_list: [
              { key: node.custom_node_id || node.node_id, value: approvers },
            ],
            uuid,
            ...feishuTitle(request.title, this.integration.domain),
          },
        },
        z.object({ instance_code: z.string().min(1) }),
      );
      return {
        ...instanceRef(this.integration, created.instance_code),
        labels,
      };
    } catch (error) {
      if (!(error instanceof ImApiError)) throw error;
      // A repeated uuid fails with 60012: the instance exists, made by an earlier try whose answer
      // was lost. A lost answer (network, timeout, 5xx) may also hide a made instance. Either way
      // the one instance of this uuid is the answer; it is never created twice.
      if (error.code !== FEISHU_UUID_CONFLICT && !error.transient) throw error;
      const existing = await this.instanceByUuid(uuid, request.form, error);
      if (existing)
        return { ...instanceRef(this.integration, existing), labels };
      throw error;
    }
  }

  /**
   * The code of the instance created with `uuid` (Feishu's instance read takes the creation uuid in
   * place of the code). After a 60012 it must exist: while it cannot be read the create stays a
   * transient failure, tried again later. After a lost answer it may not: then undefined, and the
   * create's own transient error stands.
   */
  private async instanceByUuid(
    uuid: string,
    approvalCode: string,
    createError: ImApiError,
  ): Promise<string | undefined> {
    const conflict = createError.code === FEISHU_UUID_CONFLICT;
    let instance: Instance;
    try {
      instance = await this.instance(uuid);
    } catch (error) {
      if (!conflict) return undefined;
      throw new ImApiError(
        'unavailable',
        `Feishu refused uuid ${uuid} as already used (code ${FEISHU_UUID_CONFLICT}), and its instance could not be read yet: ${(error as Error).message}`,
        FEISHU_UUID_CONFLICT,
      );
    }
    if (instance.approval_code !== approvalCode || !instance.instance_code) {
      throw new ImApiError(
        'invalid_request',
        `uuid ${uuid} already names Feishu instance ${instance.instance_code ?? '(no code)'} of approval "${instance.approval_code}", not one of "${approvalCode}"`,
        FEISHU_UUID_CONFLICT,
      );
    }
    this.deps.logger.info(
      `Feishu instance ${instance.instance_code} had already been created with uuid ${uuid}; using it`,
    );
    return instance.instance_code;
  }

  findUsers(people: string[]): Promise<Array<string | undefined>> {
    return this.users.find(people);
  }

  async readInstance(instanceId: string): Promise<ImInstanceState> {
    const instance = await this.instance(instanceId);
    const status = FEISHU_INSTANCE_STATUS[instance.status];
    if (!status) {
      throw new ImApiError(
        'unavailable',
        `Feishu instance ${instanceId} has an unknown status "${instance.status}"`,
      );
    }
    if (status === 'pending') return { status };
    const deciding = instance.timeline
      .filter(entry => DECIDING_TIMELINE_TYPES[status].includes(entry.type))
      .at(-1);
    return {
      status,
      decidedBy: deciding?.open_id
        ? await this.people.person(deciding.open_id)
        : undefined,
      comment: deciding?.comment || undefined,
      decidedAt: deciding?.create_time
        ? new Date(Number(deciding.create_time))
        : new Date(),
    };
  }

  async cancelInstance(instanceId: string) {
    const instance = await this.instance(instanceId);
    if (instance.status !== 'PENDING') {
      return {
        revoked: false,
        message: `the Feishu instance is already ${instance.status}`,
      };
    }
    try {
      await this.api.call(
        {
          operation: 'revoke an approval instance',
          method: 'POST',
          path: '/open-apis/approval/v4/instances/cancel',
          query: { user_id_type: 'open_id' },
          body: {
            approval_code: instance.approval_code,
            instance_code: instanceId,
            user_id: instance.open_id,
          },
        },
        z.unknown(),
      );
      return { revoked: true };
    } catch (error) {
      if (error instanceof ImApiError && !error.transient) {
        return {
          revoked: false,
          message: `could not revoke: ${error.message} (the approval definition may not allow revoking pending requests)`,
        };
      }
      throw error;
    }
  }

  async handleCallback(request: ImCallbackRequest) {
    return parseFeishuCallback(request, this.integration, {
      now: new Date(),
      maxAgeSeconds: this.deps.callbackMaxAgeSeconds,
    });
  }

  connect(onEvents: ImEventHandler, observer: ImConnectionObserver) {
    return openFeishuLongConnection(
      this.integration,
      this.deps.logger,
      onEvents,
      observer,
    );
  }

  private instance(instanceId: string): Promise<Instance> {
    return this.api.call(
      {
        operation: 'read an approval instance',
        method: 'GET',
        path: `/open-apis/approval/v4/instances/${encodeURIComponent(instanceId)}`,
      },
      instanceSchema,
    );
  }

  private definition(code: string): Promise<Definition> {
    return this.definitions.getOrLoad(code, () =>
      this.api.call(
        {
          operation: `read approval definition "${code}"`,
          method: 'GET',
          path: `/open-apis/approval/v4/approvals/${encodeURIComponent(code)}`,
        },
        definitionSchema,
      ),
    );
  }

  /** Events for an approval reach the app only after it subscribed to that approval_code. */
  private async subscribe(code: string) {
    if (this.subscribed.has(code)) return;
    try {
      await this.api.call(
        {
          operation: `subscribe to approval "${code}"`,
          method: 'POST',
          path: `/open-apis/approval/v4/approvals/${encodeURIComponent(code)}/subscribe`,
        },
        z.unknown(),
      );
    } catch (error) {
      // Feishu answers 1390007 when the app is already subscribed.
      if (!(error instanceof ImApiError && error.code === 1390007)) throw error;
    }
    this.subscribed.add(code);
  }

  /** Emails and mobiles looked up in one call. */
  private async lookUpUsers(
    contacts: Array<{ kind: ContactKind; value: string }>,
  ) {
    const found = await this.api.call(
      {
        operation: 'look up users by email or mobile',
        method: 'POST',
        path: '/open-apis/contact/v3/users/batch_get_id',
        query: { user_id_type: 'open_id' },
        body: {
          emails: contacts.filter(c => c.kind === 'email').map(c => c.value),
          mobiles: contacts.filter(c => c.kind === 'mobile').map(c => c.value),
        },
      },
      userIdsSchema,
    );
    return new Map(
      found.user_list.flatMap(user =>
        user.user_id && (user.email ?? user.mobile)
          ? [[(user.email ?? user.mobile)!, user.user_id]]
          : [],
      ),
    );
  }
}
