import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildOpenApiDocument } from './openapi';

describe('openapi.json', () => {
  it('is what the zod schemas generate (run `yarn openapi:generate` after changing them)', () => {
    const committed = JSON.parse(readFileSync(resolve(__dirname, '../openapi.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
  });

  it('documents every route with its request and error shapes', () => {
    const document = buildOpenApiDocument();
    expect(Object.keys(document.paths).sort()).toEqual([
      '/approvals',
      '/approvals/{id}',
      '/approvals/{id}/cancel',
      '/approvals/{id}/decision',
      '/approvals/{id}/wait',
      '/capabilities',
      '/integrations',
      '/integrations/{id}',
      '/integrations/{id}/forms/{formId}',
      '/integrations/{id}/test',
      '/templates',
      '/templates/{name}',
      '/templates/{name}/test',
    ]);
    const schemas = document.components.schemas as Record<string, { required?: string[] }>;
    expect(schemas.UpdateIntegrationRequest.required).not.toContain('appSecret');
    expect(schemas.CreateIntegrationRequest.required).toContain('appSecret');
    expect(schemas.CreateApprovalRequest.required).toEqual(['template', 'idempotencyKey']);
    expect(JSON.stringify(document)).not.toContain('#/$defs/');
    // Secrets are written, never read back: the view has only "is set" flags.
    const view = document.components.schemas.IntegrationView as { properties: Record<string, { properties?: object }> };
    expect(view.properties).not.toHaveProperty('appSecret');
    expect(view.properties.secrets.properties).toEqual({
      appSecret: { type: 'boolean' },
      verificationToken: { type: 'boolean' },
      encryptKey: { type: 'boolean' },
    });
  });
});
