import type { PlatformSnapshot } from '../persistence/stateFile';
import { type DeliveryControl, DeliveryLog } from '../delivery/log';
import { type Decision, DecisionError } from '../flow/approvalFlow';
import { WecomEvents } from './events';
import type { WecomSeed } from './seed';
import { type WecomApp, type WecomInstance, WecomState } from './state';
import { createTemplate, updateTemplate } from './templates';
import {
  type ApplyEventRequest,
  addComment,
  changeStatus,
  createInstance,
  decide,
  transfer,
  type TransferRequest,
} from './workflow';

export interface WecomPlatformOptions {
  retryDelaysMs: number[];
  log: (line: string) => void;
}

/** The WeCom stand-in: one corp's state, its APIs' rules, and sys_approval_change events to the requesting app. */
export class WecomPlatform {
  readonly state: WecomState;
  readonly events: WecomEvents;
  readonly log: DeliveryLog;

  constructor(
    seed: WecomSeed,
    private readonly options: WecomPlatformOptions,
  ) {
    this.state = new WecomState(seed);
    this.log = new DeliveryLog('wecom', options.log);
    this.events = new WecomEvents(this.state, this.log, options);
  }

  createInstance(agentId: number, request: ApplyEventRequest): WecomInstance {
    const { instance, change } = createInstance(
      this.state,
      agentId,
      request,
      Date.now(),
    );
    this.options.log(
      `wecom: app ${agentId} created request ${instance.spNo} of template ${instance.templateId}`,
    );
    this.events.publish(instance, change);
    return instance;
  }

  createTemplate(app: WecomApp, request: unknown) {
    const template = createTemplate(this.state, app, request);
    this.options.log(
      `wecom: app ${app.agentId} created template ${template.templateId} "${template.name}"`,
    );
    return template;
  }

  updateTemplate(app: WecomApp, request: unknown) {
    const template = updateTemplate(this.state, app, request);
    this.options.log(
      `wecom: app ${app.agentId} updated template ${template.templateId} "${template.name}"`,
    );
    return template;
  }

  /** A person acting in the WeCom app; throws DecisionError for an unknown or settled request. */
  decide(
    spNo: string,
    decision: Decision,
    control?: DeliveryControl,
  ): WecomInstance {
    const instance = this.instance(spNo);
    const change = decide(instance, decision, Date.now());
    this.options.log(
      `wecom: ${decision.decision} on ${spNo}; sp_status is now ${instance.spStatus}`,
    );
    this.events.publish(instance, change, control);
    return instance;
  }

  /** An approver handing their task on in the WeCom app (转审). */
  transfer(spNo: string, request: TransferRequest): WecomInstance {
    const instance = this.instance(spNo);
    const change = transfer(this.state, instance, request, Date.now());
    this.options.log(
      `wecom: ${request.fromUserId} handed their task on ${spNo} to ${request.toUserId}`,
    );
    this.events.publish(instance, change);
    return instance;
  }

  /** The applicant withdraws (4, 6), an admin deletes (7) or finance pays (10). */
  changeStatus(
    spNo: string,
    spStatus: 4 | 6 | 7 | 10,
    control?: DeliveryControl,
  ): WecomInstance {
    const instance = this.instance(spNo);
    const change = changeStatus(instance, spStatus, Date.now());
    this.options.log(`wecom: request ${spNo} is now sp_status ${spStatus}`);
    if (change !== undefined) this.events.publish(instance, change, control);
    return instance;
  }

  comment(
    spNo: string,
    userId: string,
    content: string,
    control?: DeliveryControl,
  ): WecomInstance {
    const instance = this.instance(spNo);
    this.events.publish(
      instance,
      addComment(this.state, instance, userId, content, Date.now()),
      control,
    );
    return instance;
  }

  snapshot(): PlatformSnapshot {
    return { state: this.state.snapshot(), deliveries: this.log.all() };
  }

  restore(snapshot: PlatformSnapshot): void {
    this.state.restore(snapshot.state);
    this.log.restore(snapshot.deliveries);
  }

  reset(): void {
    this.state.reset();
    this.events.reset();
    this.log.clear();
  }

  close(): void {
    this.events.close();
  }

  private instance(spNo: string): WecomInstance {
    const instance = this.state.instances.get(spNo);
    if (!instance) throw new DecisionError(404, `request ${spNo} not found`);
    return instance;
  }
}
