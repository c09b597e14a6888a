import type { ImFormSpec } from '@im-approval/plugin-im-approval-node';

// The approval definition the backend makes in Feishu for a template (POST
// /open-apis/approval/v4/approvals), and how a definition read back differs from it. Widgets and
// nodes get ids from their position (field_1…, stage_1…), so an update keeps them and a read
// finds them; every text is an @i18n@ key (at least 9 characters) with its text in each locale.

/** Locales in the order Feishu should prefer them: the domain's own first, as the default. */
export function feishuLocales(domain: 'feishu' | 'lark') {
  return domain === 'lark'
    ? (['en-US', 'zh-CN', 'ja-JP'] as const)
    : (['zh-CN', 'en-US', 'ja-JP'] as const);
}

/** Texts by @i18n@ key, in every locale, the first the default. */
export function feishuI18n(
  domain: 'feishu' | 'lark',
  texts: Record<string, string>,
) {
  return feishuLocales(domain).map((locale, index) => ({
    locale,
    is_default: index === 0,
    texts: Object.entries(texts).map(([key, value]) => ({ key, value })),
  }));
}

export const fieldWidgetId = (index: number) => `field_${index + 1}`;
export const stageNodeId = (index: number) => `stage_${index + 1}`;

/** A stage's node name: its own, else "Approvers" for a form of one stage, "Stage 2" for others. */
export function stageNodeName(spec: ImFormSpec, index: number): string {
  return (
    spec.stages[index].name ??
    (spec.stages.length === 1 ? 'Approvers' : `Stage ${index + 1}`)
  );
}

const nodeTypeOf = (rule: 'all' | 'any') => (rule === 'all' ? 'AND' : 'OR');

/**
 * The create (or, with `approvalCode`, overwrite) request for the spec's definition: its fields
 * as optional text widgets, one AND/OR node per stage whose approvers each request chooses (Free,
 * several allowed), visible to nobody in the approval app, since only this backend starts it.
 */
export function feishuDefinitionRequest(
  spec: ImFormSpec,
  domain: 'feishu' | 'lark',
  approvalCode?: string,
) {
  const texts: Record<string, string> = { '@i18n@approval_name': spec.name };
  if (spec.description) texts['@i18n@description'] = spec.description;
  const widgets = spec.fields.map((label, index) => {
    const key = `@i18n@${fieldWidgetId(index)}`;
    texts[key] = label;
    return {
      id: fieldWidgetId(index),
      name: key,
      type: 'textarea',
      required: false,
    };
  });
  const nodes = spec.stages.map((stage, index) => {
    const key = `@i18n@${stageNodeId(index)}`;
    texts[key] = stageNodeName(spec, index);
    return {
      id: stageNodeId(index),
      name: key,
      node_type: nodeTypeOf(stage.rule),
      approver: [{ type: 'Free' }],
      approver_chosen_multi: true,
    };
  });
  return {
    ...(approvalCode === undefined ? {} : { approval_code: approvalCode }),
    approval_name: '@i18n@approval_name',
    ...(spec.description ? { description: '@i18n@description' } : {}),
    viewers: [{ viewer_type: 'NONE' }],
    form: { form_content: JSON.stringify(widgets) },
    node_list: [{ id: 'START' }, ...nodes, { id: 'END' }],
    i18n_resources: feishuI18n(domain, texts),
  };
}

/** What formDrift needs of a definition as GET /approval/v4/approvals/:code answers it. */
export interface FeishuDefinitionShape {
  form: Array<{ id: string; name: string; type: string; required: boolean }>;
  node_list: Array<{
    name: string;
    node_id: string;
    custom_node_id?: string;
    node_type?: string;
    need_approver?: boolean;
    approver_chosen_multi?: boolean;
  }>;
}

const TEXT_WIDGETS = new Set(['input', 'textarea']);

/** One sentence per way the definition differs from the spec it was made from. */
export function feishuFormDrift(
  spec: ImFormSpec,
  approvalCode: string,
  definition: FeishuDefinitionShape,
): string[] {
  const approval = `Feishu approval "${approvalCode}"`;
  const drift: string[] = [];

  const fieldIds = new Set(spec.fields.map((_, index) => fieldWidgetId(index)));
  spec.fields.forEach((label, index) => {
    const id = fieldWidgetId(index);
    const widget = definition.form.find(candidate => candidate.id === id);
    if (!widget)
      drift.push(`Field "${label}" (${id}) is missing from ${approval}`);
    else if (widget.name !== label)
      drift.push(
        `Field "${label}" (${id}) is named "${widget.name}" in ${approval}`,
      );
    else if (!TEXT_WIDGETS.has(widget.type))
      drift.push(
        `Field "${label}" (${id}) is a ${widget.type} widget in ${approval}, not a text field`,
      );
  });
  for (const widget of definition.form) {
    if (widget.required && !fieldIds.has(widget.id))
      drift.push(
        `${approval} has a required field "${widget.name}" (${widget.id}) that the template does not fill`,
      );
  }

  const nodeIds = spec.stages.map((_, index) => stageNodeId(index));
  spec.stages.forEach((stage, index) => {
    const id = nodeIds[index];
    const name = stageNodeName(spec, index);
    const what = `Node "${name}" (${id}, stage ${index + 1})`;
    const node = definition.node_list.find(
      candidate => candidate.custom_node_id === id,
    );
    const expected = nodeTypeOf(stage.rule);
    if (!node) drift.push(`${what} is missing from ${approval}`);
    else if (!node.need_approver)
      drift.push(
        `${what} no longer takes approvers chosen per request in ${approval}`,
      );
    else {
      if (node.name !== name)
        drift.push(`${what} is named "${node.name}" in ${approval}`);
      if (node.node_type !== expected)
        drift.push(
          `${what} is ${node.node_type ?? 'of no type'} in ${approval}, not ${expected} (the stage needs ${stage.rule === 'all' ? 'all' : 'any one'} of its approvers)`,
        );
      if (node.approver_chosen_multi === false)
        drift.push(`${what} takes only one approver in ${approval}`);
    }
  });
  const chosen = definition.node_list.filter(node => node.need_approver);
  for (const node of chosen) {
    if (!nodeIds.includes(node.custom_node_id ?? ''))
      drift.push(
        `${approval} has an extra node "${node.name}" whose approvers are chosen per request; no stage fills it`,
      );
  }
  const order = chosen
    .map(node => node.custom_node_id ?? '')
    .filter(id => nodeIds.includes(id));
  const expectedOrder = nodeIds.filter(id => order.includes(id));
  if (order.join() !== expectedOrder.join())
    drift.push(
      `${approval} walks the stages' nodes in another order (${order.join(', ')})`,
    );
  return drift;
}
