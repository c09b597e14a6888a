import type { PlatformSnapshot } from '../persistence/stateFile';
import { type DeliveryControl, DeliveryLog } from '../delivery/log';
import { LongConnections } from '../delivery/longConnections';
import { DecisionError } from '../flow/approvalFlow';
import {
  type CreateApprovalRequest,
  saveApprovalDefinition,
} from './definitions';
import { FeishuEvents } from './events';
import {
  type FeishuClientConfig,
  FeishuLongConnection,
  sendFeishuEvent,
} from './longConnection';
import type { Instance, InstanceChange } from './model';
import type { FeishuSeed } from './seed';
import { FeishuState } from './state';
import {
  type CancelInstanceRequest,
  type CcInstanceRequest,
  type CreateInstanceRequest,
  type Decision,
  type AddApproversRequest,
  type TransferRequest,
  cancelInstance,
  ccInstance,
  createInstance,
  addApprovers,
  decide,
  transfer,
} from './workflow';

export interface FeishuPlatformOptions {
  /** Waits before each redelivery of a push that did not get HTTP 200; its length is the number of retries. */
  retryDelaysMs: number[];
  /** How long an event pushed over a long connection waits for its ack before it is pushed again. */
  ackTimeoutMs: number;
  clientConfig: FeishuClientConfig;
  log: (line: string) => void;
}

/** The Feishu stand-in: its state, and every change to an instance announced to subscribed apps. */
export class FeishuPlatform {
  readonly state: FeishuState;
  readonly events: FeishuEvents;
  readonly connections: LongConnections;
  readonly longConnection: FeishuLongConnection;

  constructor(
    seed: FeishuSeed,
    private readonly options: FeishuPlatformOptions,
  ) {
    this.state = new FeishuState(seed);
    const log = new DeliveryLog('feishu', options.log);
    this.connections = new LongConnections(log, {
      channel: 'long-connection',
      ackTimeoutMs: options.ackTimeoutMs,
      send: sendFeishuEvent,
    });
    this.longConnection = new FeishuLongConnection(
      this.state,
      this.connections,
      options.clientConfig,
    );
    this.events = new FeishuEvents(this.state, this.connections, log, options);
  }

  saveApproval(appId: string, request: CreateApprovalRequest) {
    const saved = saveApprovalDefinition(this.state, request);
    this.options.log(
      `feishu: ${appId} ${request.approval_code ? 'updated' : 'created'} approval definition ${saved.approvalCode}`,
    );
    return saved;
  }

  createInstance(appId: string, request: CreateInstanceRequest): Instance {
    const { instance, created, changes } = createInstance(
      this.state,
      appId,
      request,
      Date.now(),
    );
    if (created) {
      this.options.log(
        `feishu: ${appId} created instance ${instance.instanceCode} of ${instance.approvalCode}`,
      );
      this.events.publish(instance, changes);
    }
    return instance;
  }

  /** A person acting in the IM app; throws DecisionError for an unknown or settled instance. */
  decide(
    instanceCode: string,
    decision: Decision,
    control?: DeliveryControl,
  ): Instance {
    const instance = this.state.instances.get(instanceCode);
    if (!instance)
      throw new DecisionError(404, `instance ${instanceCode} not found`);
    const changes = decide(instance, decision, Date.now());
    this.options.log(
      `feishu: ${decision.decision} on ${instanceCode}; it is now ${instance.flow.status}`,
    );
    this.events.publish(instance, changes, control);
    return instance;
  }

  /** An approver handing their task on in the Feishu app (转交). */
  transfer(instanceCode: string, request: TransferRequest): Instance {
    return this.handOver(instanceCode, instance => {
      this.options.log(
        `feishu: ${request.fromOpenId} transferred their task on ${instanceCode} to ${request.toOpenId}`,
      );
      return transfer(this.state, instance, request, Date.now());
    });
  }

  /** An approver adding approvers to their node in the Feishu app (并加签). */
  addApprovers(instanceCode: string, request: AddApproversRequest): Instance {
    return this.handOver(instanceCode, instance => {
      this.options.log(
        `feishu: ${request.byOpenId} added ${request.openIds.join(', ')} on ${instanceCode}`,
      );
      return addApprovers(this.state, instance, request, Date.now());
    });
  }

  private handOver(
    instanceCode: string,
    change: (instance: Instance) => InstanceChange[],
  ): Instance {
    const instance = this.state.instances.get(instanceCode);
    if (!instance)
      throw new DecisionError(404, `instance ${instanceCode} not found`);
    this.events.publish(instance, change(instance));
    return instance;
  }

  cancel(
    request: CancelInstanceRequest,
    userIdType: 'open_id' | 'user_id',
  ): Instance {
    const { instance, changes } = cancelInstance(
      this.state,
      request,
      userIdType,
      Date.now(),
    );
    this.options.log(
      `feishu: instance ${instance.instanceCode} canceled by its initiator`,
    );
    this.events.publish(instance, changes);
    return instance;
  }

  cc(request: CcInstanceRequest, userIdType: 'open_id' | 'user_id'): Instance {
    const { instance, recipients } = ccInstance(
      this.state,
      request,
      userIdType,
      Date.now(),
    );
    this.options.log(
      `feishu: instance ${instance.instanceCode} CC'd to ${recipients.join(', ')}`,
    );
    return instance;
  }

  snapshot(): PlatformSnapshot {
    return { state: this.state.snapshot(), deliveries: this.events.log.all() };
  }

  restore(snapshot: PlatformSnapshot): void {
    this.state.restore(snapshot.state);
    this.events.log.restore(snapshot.deliveries);
  }

  reset(): void {
    this.state.reset();
    this.events.reset();
    this.events.log.clear();
    this.connections.reset();
  }

  close(): void {
    this.events.close();
    this.connections.close();
  }
}
