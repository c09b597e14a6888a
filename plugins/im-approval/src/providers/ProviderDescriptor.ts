import type {
  ConnectionMode,
  ProviderId,
} from '@im-approval/plugin-im-approval-common';
import type { ReactNode } from 'react';

/** One input of an IM app's settings. Whether it is a secret comes from the common package. */
export interface ProviderField {
  name: string;
  label: string;
  help?: string;
  /** Required in every connection mode it is shown in. */
  required?: boolean;
  /** The connection modes that use it (callback secrets, say); every mode when absent. */
  modes?: readonly ConnectionMode[];
  /** A select when given; a text input otherwise. */
  options?: ReadonlyArray<{ value: string; label: string }>;
  placeholder?: string;
}

/**
 * The link to an instance that approvals show (the Action's `url`, the job summary, this UI). Every IM
 * has one; only what it looks like differs, so each descriptor says where its IM's link comes from.
 */
export function instanceLinkField(where: string): ProviderField {
  return {
    name: 'instanceUrl',
    label: 'Instance link',
    help: `A link people open to see an approval in the IM, with {instanceId} where the instance id goes. ${where} Optional: without it, approvals show the instance id only.`,
    placeholder: 'https://…{instanceId}…',
  };
}

/** Everything the UI knows about one IM: a new provider is one new descriptor in this folder. */
export interface ProviderDescriptor {
  provider: ProviderId;
  label: string;
  /** What the IM calls the form a template names (Feishu approval code, DingTalk processCode…). */
  formIdLabel: string;
  fields: ReadonlyArray<ProviderField>;
  /** Initial values of a new app's fields. */
  defaults: Readonly<Record<string, string>>;
  connectionModes: ReadonlyArray<{
    value: ConnectionMode;
    label: string;
    description: string;
  }>;
  /** What an administrator does in the IM's console, in order; the callback URL is shown beside them. */
  consoleSteps: ReadonlyArray<ConsoleStep>;
}

/** One step in the IM's console, for the connection modes it belongs to (every mode when absent). */
export interface ConsoleStep {
  step: ReactNode;
  modes?: readonly ConnectionMode[];
}

/** Whether a field or step belongs to a connection mode. */
export function inMode(
  item: { modes?: readonly ConnectionMode[] },
  mode: ConnectionMode,
): boolean {
  return !item.modes || item.modes.includes(mode);
}
