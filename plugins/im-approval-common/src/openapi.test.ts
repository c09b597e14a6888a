import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildOpenApiDocument } from './openapi';

describe('openapi.json', () => {
  it('is what the zod schemas generate (run `yarn openapi:generate` after changing them)', () => {
    const committed = JSON.parse(
      readFileSync(resolve(__dirname, '../openapi.json'), 'utf8'),
    );
    expect(committed).toEqual(
      JSON.parse(JSON.stringify(buildOpenApiDocument())),
    );
  });

  it('documents every route with its request and error shapes', () => {
    const document = buildOpenApiDocument();
    expect(Object.keys(document.paths).sort()).toEqual([
      '/approval-facets',
      '/approvals',
      '/approvals/{id}',
      '/approvals/{id}/cancel',
      '/approvals/{id}/decision',
      '/approvals/{id}/wait',
      '/capabilities',
      '/gates',
      '/gates/{name}',
      '/github/app',
      '/github/setup',
      '/integration-health',
      '/integrations',
      '/integrations/test',
      '/integrations/{id}',
      '/integrations/{id}/forms/{formId}',
      '/integrations/{id}/test',
      '/templates',
      '/templates/{name}',
      '/templates/{name}/form',
      '/templates/{name}/test',
    ]);
    type ObjectSchema = {
      required?: string[];
      properties: Record<string, { const?: string; properties?: object }>;
    };
    const schemas = document.components.schemas as Record<
      string,
      ObjectSchema & { oneOf?: ObjectSchema[] }
    >;
    /** Each provider's object schema within a union schema. */
    const byProvider = (name: string) =>
      Object.fromEntries(
        schemas[name].oneOf!.map(option => [
          option.properties.provider.const,
          option,
        ]),
      );

    const create = byProvider('CreateIntegrationRequest');
    const update = byProvider('UpdateIntegrationRequest');
    const view = byProvider('IntegrationView');
    expect(Object.keys(create).sort()).toEqual(['dingtalk', 'feishu', 'wecom']);
    expect(create.feishu.required).toContain('appSecret');
    expect(create.wecom.required).toContain('secret');
    // Secrets may be left out of an update (kept) and are never read back: the view has only "is set" flags.
    for (const [provider, secrets] of Object.entries({
      feishu: ['appSecret', 'verificationToken', 'encryptKey'],
      dingtalk: ['appSecret', 'token', 'aesKey'],
      wecom: ['secret', 'token', 'encodingAESKey'],
    })) {
      for (const secret of secrets) {
        expect(update[provider].required ?? []).not.toContain(secret);
        expect(view[provider].properties).not.toHaveProperty(secret);
      }
      expect(
        Object.keys(view[provider].properties.secrets.properties!).sort(),
      ).toEqual([...secrets].sort());
    }
    expect(schemas.CreateApprovalRequest.required).toEqual([
      'template',
      'idempotencyKey',
    ]);
    expect(JSON.stringify(document)).not.toContain('#/$defs/');
  });
});
