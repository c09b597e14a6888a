import { CallbackDelivery, type DeliveryControl } from './callbacks';
import type { Instance } from './model';
import type { FeishuSeed } from './seed';
import { FeishuState } from './state';
import {
  type CancelInstanceRequest,
  type CreateInstanceRequest,
  type Decision,
  DecisionError,
  cancelInstance,
  createInstance,
  decide,
} from './workflow';

export interface FeishuPlatformOptions {
  /** Waits before each redelivery of a push that did not get HTTP 200; its length is the number of retries. */
  retryDelaysMs: number[];
  log: (line: string) => void;
}

/** The Feishu stand-in: its state, and every change to an instance announced to subscribed apps. */
export class FeishuPlatform {
  readonly state: FeishuState;
  readonly callbacks: CallbackDelivery;

  constructor(
    seed: FeishuSeed,
    private readonly options: FeishuPlatformOptions,
  ) {
    this.state = new FeishuState(seed);
    this.callbacks = new CallbackDelivery(this.state, options);
  }

  createInstance(appId: string, request: CreateInstanceRequest): Instance {
    const { instance, created, changes } = createInstance(this.state, appId, request, Date.now());
    if (created) {
      this.options.log(`feishu: ${appId} created instance ${instance.instanceCode} of ${instance.approvalCode}`);
      this.callbacks.publish(instance, changes);
    }
    return instance;
  }

  /** A person acting in the IM app; throws DecisionError for an unknown or settled instance. */
  decide(instanceCode: string, decision: Decision, control?: DeliveryControl): Instance {
    const instance = this.state.instances.get(instanceCode);
    if (!instance) throw new DecisionError(404, `instance ${instanceCode} not found`);
    const changes = decide(this.state, instance, decision, Date.now());
    this.options.log(`feishu: ${decision.decision} on ${instanceCode}; it is now ${instance.status}`);
    this.callbacks.publish(instance, changes, control);
    return instance;
  }

  cancel(request: CancelInstanceRequest, userIdType: 'open_id' | 'user_id'): Instance {
    const { instance, changes } = cancelInstance(this.state, request, userIdType, Date.now());
    this.options.log(`feishu: instance ${instance.instanceCode} canceled by its initiator`);
    this.callbacks.publish(instance, changes);
    return instance;
  }

  reset(): void {
    this.state.reset();
    this.callbacks.reset();
  }

  close(): void {
    this.callbacks.close();
  }
}
