import {
  ImApiError,
  type ImFormField,
  type ImFormSpec,
  type ImInstanceState,
} from '@im-approval/plugin-im-approval-node';

// The forms the backend makes in DingTalk's OA approval app, and how an instance's tasks tell the
// progress of each approver step.

/** DingTalk's limits on a form ("表单控件通用限制") and on an instance's approver steps. */
export const DINGTALK_FORM_LIMITS = {
  name: 200,
  description: 300,
  fields: 200,
  label: 20,
  /** approvers[] of a created instance. */
  steps: 20,
} as const;

/** The component types a text value fills. */
const TEXT_COMPONENTS = new Set(['TextField', 'TextareaField']);

/** A field's componentId: from its place in the spec, so an update keeps the ids of the fields it keeps in place. */
export const fieldComponentId = (index: number) => `field_${index + 1}`;

/** Throws `invalid_request` naming what DingTalk would refuse in the stages, before it is asked. */
export function checkDingtalkStages(stages: readonly unknown[]) {
  if (stages.length > DINGTALK_FORM_LIMITS.steps)
    throw new ImApiError(
      'invalid_request',
      `DingTalk takes at most ${DINGTALK_FORM_LIMITS.steps} approver steps in an instance; the template has ${stages.length} stages`,
    );
}

/**
 * The body of "create or update an approval form template": one multi-line text component per
 * field, by label. DingTalk takes each instance's approvers with the instance (one `approvers`
 * step per stage), so the form needs no approver nodes of its own: the spec's stages only bound
 * how many steps there may be.
 */
export function dingtalkFormBody(spec: ImFormSpec, processCode?: string) {
  checkDingtalkStages(spec.stages);
  const refuse = (what: string) =>
    new ImApiError(
      'invalid_request',
      `DingTalk cannot take the form "${spec.name}": ${what}`,
    );
  if (spec.name.length > DINGTALK_FORM_LIMITS.name)
    throw refuse(
      `its name is ${spec.name.length} characters, at most ${DINGTALK_FORM_LIMITS.name}`,
    );
  if ((spec.description?.length ?? 0) > DINGTALK_FORM_LIMITS.description)
    throw refuse(
      `its description is longer than ${DINGTALK_FORM_LIMITS.description} characters`,
    );
  if (spec.fields.length > DINGTALK_FORM_LIMITS.fields)
    throw refuse(`it has more than ${DINGTALK_FORM_LIMITS.fields} fields`);
  const long = spec.fields.find(
    label => label.length > DINGTALK_FORM_LIMITS.label,
  );
  if (long !== undefined)
    throw refuse(
      `field labels are at most ${DINGTALK_FORM_LIMITS.label} characters, and "${long}" has ${long.length}; shorten the field's name in the template`,
    );
  const formComponents = spec.fields.map((label, index) => ({
    componentType: 'TextareaField',
    props: { componentId: fieldComponentId(index), label, required: false },
  }));
  return {
    ...(processCode ? { processCode } : {}),
    name: spec.name,
    ...(spec.description ? { description: spec.description } : {}),
    // DingTalk wants at least one component: a form without fields shows a note instead.
    formComponents: formComponents.length
      ? formComponents
      : [
          {
            componentType: 'TextNote',
            props: {
              componentId: 'note',
              label: 'Note',
              content: spec.description || 'Requested from Backstage',
            },
          },
        ],
  };
}

/** The form's fields as `describeForm` tells them, right after a save. */
export function savedFields(spec: ImFormSpec): ImFormField[] {
  return spec.fields.map((label, index) => ({
    id: fieldComponentId(index),
    name: label,
    type: 'TextareaField',
    required: false,
  }));
}

/**
 * How the form in DingTalk differs from the spec, one sentence each: a field missing or renamed
 * (known by its componentId), no longer text, or a required field the backend does not fill.
 */
export function dingtalkFormDrift(
  spec: ImFormSpec,
  processCode: string,
  fields: ImFormField[],
): string[] {
  const form = `DingTalk form ${processCode}`;
  const drift: string[] = [];
  spec.fields.forEach((label, index) => {
    const byLabel = fields.find(field => field.name === label);
    if (!byLabel) {
      const byId = fields.find(field => field.id === fieldComponentId(index));
      drift.push(
        byId
          ? `Field "${label}" was renamed to "${byId.name}" in ${form}`
          : `Field "${label}" is missing from ${form}`,
      );
    } else if (!TEXT_COMPONENTS.has(byLabel.type)) {
      drift.push(
        `Field "${label}" is a ${byLabel.type} in ${form}, not a text field`,
      );
    }
  });
  for (const field of fields) {
    if (field.required && !spec.fields.includes(field.name))
      drift.push(
        `${form} has a required field "${field.name}" that the template does not fill`,
      );
  }
  return drift;
}

export interface DingtalkTask {
  userId?: string;
  status?: string;
  result?: string;
  activityId?: string;
}

/**
 * Each approver step's tasks, in order: a step is one activity, and its tasks are made when it is
 * reached (or made NEW, not started, ahead of it), so the order their activities first appear in
 * is the order of the steps. Steps without tasks yet are not in the list.
 */
export function tasksBySteps(tasks: DingtalkTask[]): DingtalkTask[][] {
  const steps = new Map<string, DingtalkTask[]>();
  for (const task of tasks) {
    const key = task.activityId ?? '';
    steps.set(key, [...(steps.get(key) ?? []), task]);
  }
  return [...steps.values()];
}

/** The users of a step's tasks that match. */
export function usersOf(
  step: DingtalkTask[],
  matches: (task: DingtalkTask) => boolean,
): string[] {
  return step.flatMap(task =>
    matches(task) && task.userId ? [task.userId] : [],
  );
}

/**
 * Each step's status. A step whose tasks are all NEW is not reached yet (waiting); every step
 * before the last reached one was approved (the instance went on); the last reached one is
 * rejected when refused, pending while a task runs, approved when the whole instance was, and
 * still pending when the instance stopped in it (terminated).
 */
export function stepStatuses(
  steps: DingtalkTask[][],
  instance: ImInstanceState['status'],
): Array<'waiting' | 'pending' | 'approved' | 'rejected'> {
  const reached = steps.filter(step =>
    step.some(task => task.status !== 'NEW'),
  ).length;
  return steps.map((step, index) => {
    if (index >= reached) return 'waiting';
    if (index < reached - 1) return 'approved';
    if (step.some(task => task.result === 'REFUSE')) return 'rejected';
    if (step.some(task => task.status === 'RUNNING')) return 'pending';
    return instance === 'approved' ? 'approved' : 'pending';
  });
}
