import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import {
  feishuIntegrationSchema,
  templateSchema,
  type Template,
} from '@im-approval/plugin-im-approval-common';
import {
  ImApiError,
  type ImClient,
  type ImFormSpec,
} from '@im-approval/plugin-im-approval-node';
import { DatabaseManagedFormStore } from '../database/DatabaseManagedFormStore';
import { migratedClient } from '../database/migratedClient';
import { ManagedForms } from './ManagedForms';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });

const integration = feishuIntegrationSchema.parse({
  id: 'feishu-main',
  provider: 'feishu',
  appId: 'cli_a',
  appSecret: 's',
  verificationToken: 'v',
  encryptKey: 'e',
  initiator: 'ou_bot',
});

/** An IM that keeps the forms it is given, as the sandbox does, and can be edited "in its console". */
function formsIm() {
  const forms = new Map<string, ImFormSpec>();
  let made = 0;
  const calls: string[] = [];
  const client = {
    async saveForm(spec: ImFormSpec, formId?: string) {
      calls.push(formId ? `update ${formId}` : 'create');
      if (formId && !forms.has(formId))
        throw new ImApiError('not_found', `no form ${formId}`);
      // A create takes a moment, so concurrent first uses would overlap.
      await new Promise(resolve => setTimeout(resolve, 20));
      const id = formId ?? `FORM-${++made}`;
      forms.set(id, structuredClone(spec));
      return { formId: id, url: `https://im.example.com/forms/${id}` };
    },
    async formDrift(spec: ImFormSpec, formId: string) {
      calls.push(`check ${formId}`);
      const there = forms.get(formId);
      if (!there) throw new ImApiError('not_found', `no form ${formId}`);
      return spec.fields
        .filter(field => !there.fields.includes(field))
        .map(field => `field "${field}" is missing`);
    },
  } as Partial<ImClient> as ImClient;
  return { forms, calls, client };
}

const template = (overrides: Partial<Template> = {}): Template =>
  templateSchema.parse({
    name: 'deploy',
    integration: 'feishu-main',
    form: { create: true },
    fields: { Service: '${vars.service}', Reason: 'release' },
    stages: [
      { name: 'Team lead', approvers: ['ou_lead'], rule: 'any' },
      { approvers: ['ou_sre'] },
    ],
    ...overrides,
  });

describe.each(databases.eachSupportedId())('ManagedForms on %p', databaseId => {
  let store: DatabaseManagedFormStore;
  let im: ReturnType<typeof formsIm>;
  let forms: ManagedForms;
  let now: number;

  beforeAll(async () => {
    const knex = await databases.init(databaseId);
    await migratedClient({ getClient: async () => knex });
    store = new DatabaseManagedFormStore(knex);
  });

  beforeEach(async () => {
    for (const form of await store.list()) await store.delete(form.template);
    im = formsIm();
    now = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    forms = new ManagedForms({
      store,
      client: () => im.client,
      integration: async id =>
        id === integration.id ? integration : undefined,
      logger: mockServices.logger.mock(),
    });
  });

  afterEach(() => jest.restoreAllMocks());

  it('makes the form with the fields, a Context field and one node per stage, once for a burst of first uses', async () => {
    const ids = await Promise.all(
      Array.from({ length: 5 }, () => forms.formIdFor(template())),
    );
    expect(new Set(ids)).toEqual(new Set(['FORM-1']));
    expect(im.calls).toEqual(['create']);
    expect(im.forms.get('FORM-1')).toEqual({
      name: 'deploy',
      fields: ['Service', 'Reason', 'Context'],
      stages: [{ name: 'Team lead', rule: 'any' }, { rule: 'all' }],
    });
    expect((await forms.views()).get('deploy')).toMatchObject({
      formId: 'FORM-1',
      url: 'https://im.example.com/forms/FORM-1',
      integration: 'feishu-main',
      drift: [],
    });
  });

  it('updates the same form in place when the template changes what it holds, and leaves it be otherwise', async () => {
    await forms.formIdFor(template());
    await forms.formIdFor(template({ title: 'A title is not in the form' }));
    expect(im.calls).toEqual(['create']);
    const changed = template({ fields: { Service: 'x', Ticket: 'y' } });
    expect(await forms.formIdFor(changed)).toBe('FORM-1');
    expect(im.calls).toEqual(['create', 'update FORM-1']);
    expect(im.forms.get('FORM-1')?.fields).toEqual([
      'Service',
      'Ticket',
      'Context',
    ]);
  });

  it('adds no Context field to a template that maps one itself', async () => {
    await forms.formIdFor(
      template({ fields: { Service: 'x', context: '${repository}' } }),
    );
    expect(im.forms.get('FORM-1')?.fields).toEqual(['Service', 'context']);
  });

  it('checks a made form again after five minutes, and refuses approvals while it was edited in the IM', async () => {
    await forms.formIdFor(template());
    im.forms.get('FORM-1')!.fields = ['Service', 'Context'];
    // Within five minutes of the last check the form is taken as it was.
    await expect(forms.formIdFor(template())).resolves.toBe('FORM-1');
    now += 6 * 60_000;
    await expect(forms.formIdFor(template())).rejects.toThrow(
      'The form FORM-1 made in the IM for template "deploy" was changed there: field "Reason" is missing. Update it from the template',
    );
    expect((await forms.views()).get('deploy')?.drift).toEqual([
      'field "Reason" is missing',
    ]);
    // Updating it from the template sets it right.
    await forms.save(template());
    expect((await forms.views()).get('deploy')?.drift).toEqual([]);
    await expect(forms.formIdFor(template())).resolves.toBe('FORM-1');
  });

  it('reports an edit when an unchanged template is saved, without overwriting it', async () => {
    await forms.templateSaved(template());
    im.forms.get('FORM-1')!.fields = [];
    await forms.templateSaved(
      template({ description: 'not in the spec? it is' }),
    );
    // The description is part of the form: that save updated it.
    expect(im.calls).toEqual(['create', 'update FORM-1']);
    im.forms.get('FORM-1')!.fields = ['Service', 'Context'];
    await forms.templateSaved(
      template({ description: 'not in the spec? it is' }),
    );
    expect(im.calls.at(-1)).toBe('check FORM-1');
    expect((await forms.views()).get('deploy')?.drift).toEqual([
      'field "Reason" is missing',
    ]);
  });

  it('makes a form anew when the one it made was deleted in the IM, and forgets it when the template names an existing form', async () => {
    await forms.formIdFor(template());
    im.forms.delete('FORM-1');
    now += 6 * 60_000;
    await expect(forms.formIdFor(template())).rejects.toThrow(
      'the form was deleted in the IM',
    );
    await forms.save(template());
    expect(im.calls.slice(-2)).toEqual(['update FORM-1', 'create']);
    expect((await forms.views()).get('deploy')?.formId).toBe('FORM-2');
    await forms.templateSaved(template({ form: 'EXISTING' }));
    expect((await forms.views()).has('deploy')).toBe(false);
    await expect(forms.formIdFor(template({ form: 'EXISTING' }))).resolves.toBe(
      'EXISTING',
    );
  });

  it('refuses to make a form for a template that names an existing one, or whose integration is gone', async () => {
    await expect(forms.save(template({ form: 'EXISTING' }))).rejects.toThrow(
      'template "deploy" uses the existing IM form "EXISTING"; set its form to { create: true } for one the backend makes',
    );
    await expect(forms.save(template({ integration: 'gone' }))).rejects.toThrow(
      'template "deploy": there is no integration "gone"',
    );
    expect(im.calls).toEqual([]);
  });
});
