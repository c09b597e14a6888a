import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { describeIssues } from '../validation';
import { FeishuApiError, FeishuCode, approvalParamInvalid } from './errors';
import type { ApprovalDefinition, ApprovalNode, ApprovalWidget } from './model';
import type { FeishuState } from './state';

// Approval definitions an app creates or updates through POST /open-apis/approval/v4/approvals
// (创建审批定义), under the rules of Feishu's API reference: every text an @i18n@ key of at least
// 9 characters whose text the default locale of i18n_resources holds; the form a JSON string of
// widgets; node_list from START to END; approval_code to overwrite an existing definition whole.
// The sandbox models approver nodes whose approvers each request chooses (type Free, AND or OR)
// and text widgets; anything else it refuses and says so.

const I18N_PREFIX = '@i18n@';
const I18N_MIN_LENGTH = 9;

const approverSchema = z.object({
  type: z.enum([
    'Supervisor',
    'SupervisorTopDown',
    'DepartmentManager',
    'DepartmentManagerTopDown',
    'Personal',
    'Free',
  ]),
  user_id: z.string().optional(),
  level: z.string().optional(),
});

const nodeSchema = z.object({
  id: z.string().min(1),
  name: z.string().optional(),
  node_type: z.enum(['AND', 'OR', 'SEQUENTIAL']).optional(),
  approver: z.array(approverSchema).optional(),
  ccer: z.array(approverSchema).optional(),
  approver_chosen_multi: z.boolean().optional(),
});

export const createApprovalRequestSchema = z.object({
  approval_name: z.string(),
  approval_code: z.string().min(1).optional(),
  description: z.string().optional(),
  viewers: z
    .array(
      z.object({
        viewer_type: z
          .enum(['TENANT', 'DEPARTMENT', 'USER', 'NONE'])
          .optional(),
        viewer_user_id: z.string().optional(),
        viewer_department_id: z.string().optional(),
      }),
    )
    .max(200),
  form: z.object({ form_content: z.string() }),
  node_list: z.array(nodeSchema),
  i18n_resources: z
    .array(
      z.object({
        locale: z.enum(['zh-CN', 'en-US', 'ja-JP']),
        texts: z.array(z.object({ key: z.string(), value: z.string() })),
        is_default: z.boolean(),
      }),
    )
    .min(1),
});
export type CreateApprovalRequest = z.infer<typeof createApprovalRequestSchema>;

const widgetSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  type: z.string().min(1),
  required: z.boolean({ error: 'is required (true or false)' }),
  custom_id: z.string().optional(),
});

/** Widget types the approval-definition API does not take; the console alone can add them. */
const CONSOLE_ONLY_WIDGETS = new Set([
  'formula',
  'mutableGroup',
  'serialNumber',
  'shiftGroupV2',
  'workGroup',
  'leaveGroup',
  'outGroup',
  'tripGroup',
]);
const TEXT_WIDGETS = new Set(['input', 'textarea']);

// Feishu's node ids are 32 hex digits; derived from the node's own id, an update keeps them.
const nodeIdOf = (approvalCode: string, id: string) =>
  createHash('md5').update(`${approvalCode}/${id}`).digest('hex');

const approvalIdOf = (approvalCode: string) =>
  String(
    7_000_000_000_000_000_000n +
      BigInt(
        `0x${createHash('md5').update(approvalCode).digest('hex').slice(0, 12)}`,
      ),
  );

/** The scopes Feishu accepts for creating or updating a definition (any one). */
export const DEFINITION_WRITE_SCOPES = [
  'approval:approval',
  'approval:definition',
];

/**
 * Creates the definition, or overwrites the one `approval_code` names (its code stays); answers
 * what Feishu answers: the code and the definition's numeric id.
 */
export function saveApprovalDefinition(
  state: FeishuState,
  request: CreateApprovalRequest,
): { approvalCode: string; approvalId: string } {
  const text = i18nTexts(request.i18n_resources);
  const existing =
    request.approval_code === undefined
      ? undefined
      : state.approvals.get(request.approval_code);
  if (request.approval_code !== undefined && !existing) {
    throw new FeishuApiError(
      FeishuCode.approvalNotFound,
      'approval code not found',
    );
  }
  checkViewers(request.viewers);
  const approvalCode = existing?.approvalCode ?? randomUUID().toUpperCase();
  const definition: ApprovalDefinition = {
    approvalCode,
    name: text('approval_name', request.approval_name),
    form: parseWidgets(request.form.form_content, text),
    nodes: parseNodes(approvalCode, request.node_list, text),
    allowRevoke: existing?.allowRevoke ?? true,
  };
  // Checked like every text, though the sandbox shows no description.
  if (request.description !== undefined)
    text('description', request.description);
  state.approvals.set(approvalCode, definition);
  return { approvalCode, approvalId: approvalIdOf(approvalCode) };
}

/** The text of an @i18n@ key in the default locale, or the refusal naming the field that used it. */
function i18nTexts(resources: CreateApprovalRequest['i18n_resources']) {
  const defaults = resources.filter(resource => resource.is_default);
  if (defaults.length !== 1) {
    throw approvalParamInvalid(
      `i18n_resources: exactly one locale must have is_default: true (it holds every key), not ${defaults.length}`,
    );
  }
  resources.forEach((resource, index) =>
    resource.texts.forEach((entry, textIndex) => {
      if (!entry.key.startsWith(I18N_PREFIX))
        throw approvalParamInvalid(
          `i18n_resources[${index}].texts[${textIndex}].key: "${entry.key}" must start with ${I18N_PREFIX}`,
        );
    }),
  );
  const texts = new Map(
    defaults[0].texts.map(entry => [entry.key, entry.value]),
  );
  return (field: string, key: string): string => {
    if (!key.startsWith(I18N_PREFIX) || key.length < I18N_MIN_LENGTH) {
      throw approvalParamInvalid(
        `${field}: "${key}" is not an i18n key; it must start with ${I18N_PREFIX} and be at least ${I18N_MIN_LENGTH} characters, its text given in i18n_resources`,
      );
    }
    const value = texts.get(key);
    if (value === undefined) {
      throw approvalParamInvalid(
        `${field}: i18n key ${key} has no text in the default locale (${defaults[0].locale}) of i18n_resources`,
      );
    }
    return value;
  };
}

function checkViewers(viewers: CreateApprovalRequest['viewers']) {
  viewers.forEach((viewer, index) => {
    if (viewer.viewer_type === 'USER' && !viewer.viewer_user_id)
      throw approvalParamInvalid(
        `viewers[${index}].viewer_user_id is required when viewer_type is USER`,
      );
    if (viewer.viewer_type === 'DEPARTMENT' && !viewer.viewer_department_id)
      throw approvalParamInvalid(
        `viewers[${index}].viewer_department_id is required when viewer_type is DEPARTMENT`,
      );
  });
}

function parseWidgets(
  formContent: string,
  text: (field: string, key: string) => string,
): ApprovalWidget[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(formContent);
  } catch {
    throw approvalParamInvalid(
      'form.form_content is not valid JSON; it must be a JSON string of an array of widgets',
    );
  }
  const widgets = z.array(widgetSchema).safeParse(parsed);
  if (!widgets.success)
    throw approvalParamInvalid(
      describeIssues(widgets.error, 'form.form_content'),
    );
  const ids = new Set<string>();
  return widgets.data.map((widget, index) => {
    const at = `form.form_content[${index}]`;
    if (ids.has(widget.id))
      throw approvalParamInvalid(
        `${at}.id: widget id ${widget.id} is used twice; widget ids are unique within a definition`,
      );
    ids.add(widget.id);
    if (CONSOLE_ONLY_WIDGETS.has(widget.type))
      throw approvalParamInvalid(
        `${at}.type: ${widget.type} widgets cannot be created through the API; add them in the approval admin console`,
      );
    if (!TEXT_WIDGETS.has(widget.type))
      throw approvalParamInvalid(
        `${at}.type: the sandbox models text widgets (input, textarea), not ${widget.type}`,
      );
    return {
      id: widget.id,
      name: text(`${at}.name`, widget.name),
      type: widget.type,
      required: widget.required,
    };
  });
}

function parseNodes(
  approvalCode: string,
  nodeList: CreateApprovalRequest['node_list'],
  text: (field: string, key: string) => string,
): ApprovalNode[] {
  if (nodeList[0]?.id !== 'START' || nodeList.at(-1)?.id !== 'END') {
    throw approvalParamInvalid(
      'node_list must start with the node {id: "START"} and end with the node {id: "END"}',
    );
  }
  const inner = nodeList.slice(1, -1);
  if (inner.length === 0)
    throw approvalParamInvalid(
      'node_list: the sandbox models definitions with at least one approver node between START and END',
    );
  const ids = new Set<string>();
  return inner.map((node, position) => {
    const at = `node_list[${position + 1}]`;
    if (node.id === 'START' || node.id === 'END' || ids.has(node.id))
      throw approvalParamInvalid(
        `${at}.id: ${node.id} is used twice; START and END open and close the list, and node ids are unique`,
      );
    ids.add(node.id);
    const approvers = node.approver ?? [];
    if (approvers.length === 0)
      throw approvalParamInvalid(
        `${at}.approver: an approver node needs its approvers`,
      );
    if (node.node_type === undefined)
      throw approvalParamInvalid(
        `${at}.node_type: an approver node is AND, OR or SEQUENTIAL`,
      );
    const free = approvers.every(approver => approver.type === 'Free');
    if (node.node_type === 'SEQUENTIAL' && !free)
      throw approvalParamInvalid(
        `${at}: a SEQUENTIAL node takes approvers chosen by the initiator (approver type Free) only`,
      );
    if (node.ccer?.some(ccer => ccer.type === 'Free'))
      throw approvalParamInvalid(
        `${at}.ccer: CC recipients cannot be chosen by the initiator (type Free)`,
      );
    if (!free)
      throw approvalParamInvalid(
        `${at}.approver: the sandbox models approvers chosen by the initiator (type Free) only`,
      );
    if (node.node_type === 'SEQUENTIAL' || (node.ccer ?? []).length > 0)
      throw approvalParamInvalid(
        `${at}: the sandbox models AND and OR approver nodes without CC recipients`,
      );
    return {
      nodeId: nodeIdOf(approvalCode, node.id),
      customNodeId: node.id,
      name: node.name === undefined ? node.id : text(`${at}.name`, node.name),
      type: node.node_type,
      needApprover: true,
      approverChosenMulti: node.approver_chosen_multi ?? true,
    };
  });
}
