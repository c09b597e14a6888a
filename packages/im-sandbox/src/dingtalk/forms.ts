import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { DingtalkApiError, DingtalkCode } from './errors';
import { DINGTALK_COMPONENT_TYPES, type DingtalkComponentType } from './seed';
import type { DingtalkComponent, DingtalkForm, DingtalkState } from './state';

// "Create or update an approval form template" (POST /v1.0/workflow/forms): a form of the official
// OA approval app, made or changed by API. The form has components only; the approvers of each
// step are given when an instance is created.

/** DingTalk's limits ("表单控件通用限制" and the request body's). */
export const FORM_LIMITS = {
  name: 200,
  description: 300,
  components: 200,
  label: 20,
  componentId: 64,
} as const;

interface ComponentRequest {
  componentType: string;
  props: {
    componentId?: string;
    label?: string;
    required?: boolean;
    [key: string]: unknown;
  };
  children?: ComponentRequest[];
}

const componentSchema: z.ZodType<ComponentRequest> = z.lazy(() =>
  z.object({
    componentType: z.string().min(1),
    props: z.looseObject({
      componentId: z.string().min(1).optional(),
      label: z.string().optional(),
      required: z.boolean().optional(),
    }),
    children: z.array(componentSchema).optional(),
  }),
);

export const formCreateRequestSchema = z.object({
  /** Absent: a new form; present: the form to update in place. */
  processCode: z.string().min(1).optional(),
  name: z.string().min(1).max(FORM_LIMITS.name),
  description: z.string().max(FORM_LIMITS.description).optional(),
  formComponents: z.array(componentSchema).min(1).max(FORM_LIMITS.components),
  templateConfig: z.looseObject({}).optional(),
  disableStopProcessButton: z.boolean().optional(),
  hidden: z.boolean().optional(),
  disableDeleteProcess: z.boolean().optional(),
  disableFormEdit: z.boolean().optional(),
  disableResubmit: z.boolean().optional(),
  disableHomepage: z.boolean().optional(),
  dirId: z.string().optional(),
  originDirId: z.string().optional(),
});
export type FormCreateRequest = z.infer<typeof formCreateRequestSchema>;

const formSchemaError = (message: string) =>
  new DingtalkApiError(400, DingtalkCode.formSchema, message);

/** Creates the form, or updates the one `request.processCode` names keeping its processCode. */
export function saveForm(
  state: DingtalkState,
  appKey: string,
  request: FormCreateRequest,
): DingtalkForm {
  const existing =
    request.processCode === undefined
      ? undefined
      : state.forms.get(request.processCode);
  if (request.processCode !== undefined && !existing)
    throw new DingtalkApiError(
      400,
      DingtalkCode.processCode,
      'processCode对应的审批流程不存在',
    );
  const components = componentsOf(request.formComponents, 'formComponents');
  const sameName = [...state.forms.values()].find(
    form =>
      form.name === request.name && form.processCode !== existing?.processCode,
  );
  if (sameName)
    throw new DingtalkApiError(400, DingtalkCode.formName, '已有相同名称表单');
  const form: DingtalkForm = {
    processCode: existing?.processCode ?? `PROC-${randomUUID().toUpperCase()}`,
    name: request.name,
    ...(request.description === undefined
      ? {}
      : { description: request.description }),
    createdByApp: existing ? existing.createdByApp : appKey,
    components,
  };
  state.forms.set(form.processCode, form);
  return form;
}

/** The components as the form keeps them, with the ids DingTalk makes for those sent without one. */
function componentsOf(
  requested: ComponentRequest[],
  path: string,
): DingtalkComponent[] {
  const components = requested.map((component, index) => {
    const at = `${path}[${index}]`;
    if (!isComponentType(component.componentType))
      throw formSchemaError(
        `${at}.componentType: ${component.componentType} is not a component of official OA approval forms`,
      );
    const label = component.props.label?.trim();
    if (!label) throw formSchemaError(`${at}.props.label: a label is needed`);
    if (label.length > FORM_LIMITS.label)
      throw formSchemaError(
        `${at}.props.label: "${label}" is ${label.length} characters; at most ${FORM_LIMITS.label}`,
      );
    const id =
      component.props.componentId ??
      `${component.componentType}_${randomBytes(6).toString('hex').toUpperCase()}`;
    if (id.length > FORM_LIMITS.componentId)
      throw formSchemaError(
        `${at}.props.componentId: at most ${FORM_LIMITS.componentId} characters`,
      );
    if (component.children && component.componentType !== 'TableField')
      throw formSchemaError(
        `${at}.children: only a TableField has child components`,
      );
    return {
      componentType: component.componentType,
      id,
      label,
      required: component.props.required ?? false,
      ...(component.children
        ? { children: componentsOf(component.children, `${at}.children`) }
        : {}),
    };
  });
  const repeated = (key: 'id' | 'label') =>
    components.find(
      (component, index) =>
        components.findIndex(other => other[key] === component[key]) !== index,
    )?.[key];
  const label = repeated('label');
  if (label !== undefined)
    throw formSchemaError(
      `${path}: label "${label}" is used by more than one component; instances fill components by label`,
    );
  const id = repeated('id');
  if (id !== undefined)
    throw formSchemaError(
      `${path}: componentId "${id}" is used by more than one component`,
    );
  return components;
}

function isComponentType(type: string): type is DingtalkComponentType {
  return (DINGTALK_COMPONENT_TYPES as readonly string[]).includes(type);
}
