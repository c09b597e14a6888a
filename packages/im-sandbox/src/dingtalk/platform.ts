import type { PlatformSnapshot } from '../persistence/stateFile';
import { type DeliveryControl, DeliveryLog } from '../delivery/log';
import { LongConnections } from '../delivery/longConnections';
import { type Decision, DecisionError } from '../flow/approvalFlow';
import { DingtalkEvents } from './events';
import { type FormCreateRequest, saveForm } from './forms';
import type { DingtalkSeed } from './seed';
import {
  type DingtalkForm,
  type DingtalkInstance,
  DingtalkState,
} from './state';
import { DingtalkStream } from './stream';
import {
  type CreateInstanceRequest,
  type RedirectRequest,
  type TerminateRequest,
  createInstance,
  decide,
  redirect,
  append,
  type AppendRequest,
  terminate,
} from './workflow';

export interface DingtalkPlatformOptions {
  retryDelaysMs: number[];
  ackTimeoutMs: number;
  /** How often the Stream gateway pings its clients. */
  streamPingIntervalMs: number;
  log: (line: string) => void;
}

/** The DingTalk stand-in: one corp's state, its APIs' rules, and its events by HTTP push or Stream. */
export class DingtalkPlatform {
  readonly state: DingtalkState;
  readonly events: DingtalkEvents;
  readonly connections: LongConnections;
  readonly stream: DingtalkStream;
  readonly log: DeliveryLog;
  private readonly pinger: NodeJS.Timeout;

  constructor(
    seed: DingtalkSeed,
    private readonly options: DingtalkPlatformOptions,
  ) {
    this.state = new DingtalkState(seed);
    this.log = new DeliveryLog('dingtalk', options.log);
    this.connections = new LongConnections(this.log, {
      channel: 'stream',
      ackTimeoutMs: options.ackTimeoutMs,
      send: (socket, messageId, payload) =>
        this.stream.send(socket, messageId, payload),
    });
    this.stream = new DingtalkStream(this.state, this.connections);
    this.events = new DingtalkEvents(
      this.state,
      this.connections,
      this.log,
      options,
    );
    this.pinger = setInterval(
      () => this.stream.ping(),
      options.streamPingIntervalMs,
    ).unref();
  }

  saveForm(appKey: string, request: FormCreateRequest): DingtalkForm {
    const form = saveForm(this.state, appKey, request);
    this.options.log(
      `dingtalk: ${appKey} ${request.processCode ? 'updated' : 'created'} form ${form.processCode} "${form.name}"`,
    );
    return form;
  }

  createInstance(
    appKey: string,
    request: CreateInstanceRequest,
  ): DingtalkInstance {
    const { instance, events } = createInstance(
      this.state,
      appKey,
      request,
      Date.now(),
    );
    this.options.log(
      `dingtalk: ${appKey} created instance ${instance.processInstanceId} of ${instance.processCode}`,
    );
    this.events.publish(events);
    return instance;
  }

  /** A person acting in the DingTalk app; throws DecisionError for an unknown or settled instance. */
  decide(
    processInstanceId: string,
    decision: Decision,
    control?: DeliveryControl,
  ): DingtalkInstance {
    const instance = this.state.instances.get(processInstanceId);
    if (!instance)
      throw new DecisionError(404, `instance ${processInstanceId} not found`);
    const events = decide(instance, decision, Date.now());
    this.options.log(
      `dingtalk: ${decision.decision} on ${processInstanceId}; it is now ${instance.flow.status}`,
    );
    this.events.publish(events, control);
    return instance;
  }

  /** An approver handing their task on in the DingTalk app (转交). */
  redirect(
    processInstanceId: string,
    request: RedirectRequest,
  ): DingtalkInstance {
    const instance = this.state.instances.get(processInstanceId);
    if (!instance)
      throw new DecisionError(404, `instance ${processInstanceId} not found`);
    const events = redirect(this.state, instance, request, Date.now());
    this.options.log(
      `dingtalk: ${request.fromUserId} redirected their task on ${processInstanceId} to ${request.toUserId}`,
    );
    this.events.publish(events);
    return instance;
  }

  /** An approver adding people to their step in the DingTalk app (加签). */
  append(processInstanceId: string, request: AppendRequest): DingtalkInstance {
    const instance = this.state.instances.get(processInstanceId);
    if (!instance)
      throw new DecisionError(404, `instance ${processInstanceId} not found`);
    const events = append(this.state, instance, request, Date.now());
    this.options.log(
      `dingtalk: ${request.byUserId} added ${request.userIds.join(', ')} to their step of ${processInstanceId}`,
    );
    this.events.publish(events);
    return instance;
  }

  terminate(request: TerminateRequest): DingtalkInstance {
    const { instance, events } = terminate(this.state, request, Date.now());
    this.options.log(
      `dingtalk: instance ${instance.processInstanceId} terminated`,
    );
    this.events.publish(events);
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
    this.connections.reset();
  }

  close(): void {
    clearInterval(this.pinger);
    this.events.close();
    this.connections.close();
  }
}
