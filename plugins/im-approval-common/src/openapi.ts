import { z } from 'zod';
import {
  approvalFacetsQuerySchema,
  approvalFacetsSchema,
  approvalSchema,
  approvalWithTimelineSchema,
  cancelApprovalRequestSchema,
  createApprovalRequestSchema,
  decideApprovalRequestSchema,
  errorResponseSchema,
  listApprovalsQuerySchema,
  listApprovalsResponseSchema,
  waitQuerySchema,
} from './approvals';
import {
  createIntegrationRequestSchema,
  formDescriptionSchema,
  integrationHealthListSchema,
  integrationListSchema,
  integrationTestResultSchema,
  integrationViewSchema,
  updateIntegrationRequestSchema,
} from './integrationsApi';
import { formIdSchema, integrationIdSchema } from './integrations';
import {
  gateRequestSchema,
  gateViewSchema,
  githubAppRequestSchema,
  githubAppViewSchema,
  githubSetupSchema,
} from './gates';
import { capabilitiesSchema } from './permissions';
import { templateNameSchema } from './templates';
import {
  managedFormSchema,
  templateListSchema,
  templateRequestSchema,
  templateViewSchema,
  testTemplateRequestSchema,
} from './templatesApi';

type Schema = z.ZodType;

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid input; the message names the field',
  401: 'No valid credentials',
  403: 'The caller may not do this (policy or permission); the message names the permission',
  404: 'No such approval, integration, template, gate or saved GitHub App',
  409: 'A conflict: the approval is already decided, the idempotency key belongs to another request, the id or name is taken, the item comes from app-config and is read-only, the IM app lacks a permission or its credentials (the message names what to grant or fix), or a form the backend made was edited in the IM (the message says what differs)',
  502: 'The IM failed or could not be reached; the message says what happened',
  503: 'Database-managed integrations need imApproval.secretsKey in app-config',
};

const json = (schema: Schema) => ({
  content: { 'application/json': { schema: ref(schema) } },
});
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map(code => [
      String(code),
      { description: ERROR_TEXT[code], ...json(errorResponseSchema) },
    ]),
  );

const componentUri = (id: string) => `#/components/schemas/${id}`;

/** Points zod's `#/$defs/…` references at the document's components. */
function toComponentRefs<T>(jsonSchema: T): T {
  return JSON.parse(
    JSON.stringify(jsonSchema).replaceAll(
      '"#/$defs/',
      '"#/components/schemas/',
    ),
  );
}

function idOf(schema: Schema): string {
  const id = z.globalRegistry.get(schema)?.id;
  if (!id) throw new Error('every schema in the API document needs a meta id');
  return id;
}

function ref(schema: Schema) {
  return { $ref: componentUri(idOf(schema)) };
}

function queryParameters(schema: z.ZodObject) {
  const document = toComponentRefs(
    z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }),
  ) as {
    $defs: Record<
      string,
      { properties: Record<string, object>; required?: string[] }
    >;
  };
  const jsonSchema = document.$defs[idOf(schema)];
  return Object.entries(jsonSchema.properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: jsonSchema.required?.includes(name) ?? false,
    schema: property,
  }));
}

const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
};
function pathParameter(name: string, description: string, schema: Schema) {
  const { $schema: _, ...jsonSchema } = z.toJSONSchema(schema, { io: 'input' });
  return { name, in: 'path', required: true, description, schema: jsonSchema };
}
const integrationIdParameter = pathParameter(
  'id',
  'The integration id',
  integrationIdSchema,
);
const templateNameParameter = pathParameter(
  'name',
  'The template name',
  templateNameSchema,
);
const gateNameParameter = pathParameter(
  'name',
  'The gate name',
  templateNameSchema,
);
const noContent = { '204': { description: 'Deleted' } };

/**
 * The OpenAPI 3.1 document of the plugin's API, derived from the zod schemas.
 *
 * @public
 */
export function buildOpenApiDocument() {
  const components = toComponentRefs(
    z.toJSONSchema(
      z.object({
        createApproval: createApprovalRequestSchema,
        cancelApproval: cancelApprovalRequestSchema,
        decideApproval: decideApprovalRequestSchema,
        createIntegration: createIntegrationRequestSchema,
        updateIntegration: updateIntegrationRequestSchema,
        integration: integrationViewSchema,
        integrations: integrationListSchema,
        integrationTest: integrationTestResultSchema,
        integrationHealth: integrationHealthListSchema,
        form: formDescriptionSchema,
        templateRequest: templateRequestSchema,
        template: templateViewSchema,
        templates: templateListSchema,
        testTemplate: testTemplateRequestSchema,
        managedForm: managedFormSchema,
        gateRequest: gateRequestSchema,
        gate: gateViewSchema,
        githubAppRequest: githubAppRequestSchema,
        githubApp: githubAppViewSchema,
        githubSetup: githubSetupSchema,
        capabilities: capabilitiesSchema,
        approval: approvalSchema,
        approvalWithTimeline: approvalWithTimelineSchema,
        list: listApprovalsResponseSchema,
        error: errorResponseSchema,
      }),
      { io: 'input', unrepresentable: 'any' },
    ),
  ) as { $defs: Record<string, object> };

  return {
    openapi: '3.1.0',
    info: {
      title: 'im-approval',
      version: '1',
      description:
        'Approvals decided in Feishu/Lark, DingTalk or WeCom, for GitHub Actions. Served under /api/im-approval.',
    },
    servers: [{ url: '/api/im-approval' }],
    components: {
      schemas: components.$defs,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A GitHub Actions OIDC token, a Backstage static external-access token, or a Backstage user token',
        },
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/approvals': {
        post: {
          operationId: 'createApproval',
          summary: 'Open an approval (idempotent by idempotencyKey)',
          requestBody: { required: true, ...json(createApprovalRequestSchema) },
          responses: {
            '200': {
              description: 'The approval this idempotency key already opened',
              ...json(approvalSchema),
            },
            '201': { description: 'A new approval', ...json(approvalSchema) },
            ...errors(400, 401, 403, 409),
          },
        },
        get: {
          operationId: 'listApprovals',
          summary: 'Approvals, newest first',
          parameters: queryParameters(listApprovalsQuerySchema),
          responses: {
            '200': {
              description: 'A page of approvals',
              ...json(listApprovalsResponseSchema),
            },
            ...errors(400, 401, 403),
          },
        },
      },
      '/approval-facets': {
        get: {
          operationId: 'listApprovalFacets',
          summary:
            'The templates and repositories of recent approvals, to filter the list by',
          parameters: queryParameters(approvalFacetsQuerySchema),
          responses: {
            '200': {
              description: 'Values to offer, each list sorted',
              ...json(approvalFacetsSchema),
            },
            ...errors(400, 401, 403),
          },
        },
      },
      '/approvals/{id}': {
        get: {
          operationId: 'getApproval',
          summary: 'An approval with its timeline',
          parameters: [idParameter],
          responses: {
            '200': {
              description: 'The approval',
              ...json(approvalWithTimelineSchema),
            },
            ...errors(401, 403, 404),
          },
        },
      },
      '/approvals/{id}/wait': {
        get: {
          operationId: 'waitForApproval',
          summary:
            'Long-poll: answers when the approval leaves pending, or at the timeout with pending',
          parameters: [idParameter, ...queryParameters(waitQuerySchema)],
          responses: {
            '200': {
              description: 'The approval as it is now',
              ...json(approvalSchema),
            },
            ...errors(400, 401, 403, 404),
          },
        },
      },
      '/approvals/{id}/cancel': {
        post: {
          operationId: 'cancelApproval',
          summary:
            'Cancel a pending approval and revoke its IM instance where the IM allows it',
          parameters: [idParameter],
          requestBody: {
            required: false,
            ...json(cancelApprovalRequestSchema),
          },
          responses: {
            '200': {
              description: 'The canceled approval',
              ...json(approvalSchema),
            },
            ...errors(400, 401, 403, 404, 409),
          },
        },
      },
      '/approvals/{id}/decision': {
        post: {
          operationId: 'decideApproval',
          summary:
            'An administrator approves or rejects in Backstage, with a reason (im-approval.approval.decide; people only)',
          parameters: [idParameter],
          requestBody: { required: true, ...json(decideApprovalRequestSchema) },
          responses: {
            '200': {
              description: 'The decided approval',
              ...json(approvalSchema),
            },
            ...errors(400, 401, 403, 404, 409),
          },
        },
      },
      '/capabilities': {
        get: {
          operationId: 'getCapabilities',
          summary: 'What the caller may do, for showing or hiding controls',
          responses: {
            '200': {
              description: 'One flag per permission',
              ...json(capabilitiesSchema),
            },
            ...errors(401),
          },
        },
      },
      '/integrations': {
        get: {
          operationId: 'listIntegrations',
          summary:
            'IM apps from app-config and the database, without secrets (integration.manage or template.manage)',
          responses: {
            '200': {
              description: 'All integrations',
              ...json(integrationListSchema),
            },
            ...errors(401, 403),
          },
        },
        post: {
          operationId: 'createIntegration',
          summary:
            'Add a database-managed IM app; its secrets are stored encrypted (integration.manage)',
          requestBody: {
            required: true,
            ...json(createIntegrationRequestSchema),
          },
          responses: {
            '201': {
              description: 'The new integration',
              ...json(integrationViewSchema),
            },
            ...errors(400, 401, 403, 409, 503),
          },
        },
      },
      '/integrations/{id}': {
        get: {
          operationId: 'getIntegration',
          summary:
            'One IM app, without secrets (integration.manage or template.manage)',
          parameters: [integrationIdParameter],
          responses: {
            '200': {
              description: 'The integration',
              ...json(integrationViewSchema),
            },
            ...errors(401, 403, 404),
          },
        },
        put: {
          operationId: 'updateIntegration',
          summary:
            'Change a database-managed IM app; secrets left out keep their value (integration.manage)',
          parameters: [integrationIdParameter],
          requestBody: {
            required: true,
            ...json(updateIntegrationRequestSchema),
          },
          responses: {
            '200': {
              description: 'The updated integration',
              ...json(integrationViewSchema),
            },
            ...errors(400, 401, 403, 404, 409, 503),
          },
        },
        delete: {
          operationId: 'deleteIntegration',
          summary:
            'Remove a database-managed IM app no template uses (integration.manage)',
          parameters: [integrationIdParameter],
          responses: { ...noContent, ...errors(401, 403, 404, 409) },
        },
      },
      '/integrations/{id}/test': {
        post: {
          operationId: 'testIntegration',
          summary:
            'Fetch a token from the IM and say what failed, in words a person can act on (integration.manage)',
          parameters: [integrationIdParameter],
          responses: {
            '200': {
              description: 'The result, passed or failed',
              ...json(integrationTestResultSchema),
            },
            ...errors(401, 403, 404),
          },
        },
      },
      '/integrations/test': {
        post: {
          operationId: 'testIntegrationSettings',
          summary:
            'Test settings as typed, before saving them: nothing is stored; secrets left out are those of the database app with that id (integration.manage)',
          requestBody: {
            required: true,
            ...json(updateIntegrationRequestSchema),
          },
          responses: {
            '200': {
              description: 'The result, passed or failed',
              ...json(integrationTestResultSchema),
            },
            ...errors(400, 401, 403),
          },
        },
      },
      '/integrations/{id}/forms/{formId}': {
        get: {
          operationId: 'describeForm',
          summary:
            "The IM form's fields, for a template's field mapping (template.manage or integration.manage)",
          parameters: [
            integrationIdParameter,
            pathParameter(
              'formId',
              'Feishu approval_code, DingTalk processCode or WeCom template_id',
              formIdSchema,
            ),
          ],
          responses: {
            '200': {
              description: 'The form and its fields',
              ...json(formDescriptionSchema),
            },
            ...errors(401, 403, 404, 502),
          },
        },
      },
      '/integration-health': {
        get: {
          operationId: 'listIntegrationHealth',
          summary:
            "Each IM app's connection, last event and last error, as the replica that answers sees them (integration.manage or template.manage)",
          responses: {
            '200': {
              description: "This replica's view of every integration",
              ...json(integrationHealthListSchema),
            },
            ...errors(401, 403),
          },
        },
      },
      '/github/setup': {
        get: {
          operationId: 'getGithubSetup',
          summary:
            "The GitHub App's webhook URL, permissions and events, the App, the gates, and the latest webhook deliveries with why any was refused (integration.manage or template.manage)",
          responses: {
            '200': {
              description: 'What to enter in the GitHub App, and what it sent',
              ...json(githubSetupSchema),
            },
            ...errors(401, 403),
          },
        },
      },
      '/github/app': {
        put: {
          operationId: 'saveGithubApp',
          summary:
            'Save the GitHub App deployment gates act as, when app-config names none; its private key and webhook secret are stored encrypted and never returned (integration.manage)',
          requestBody: { required: true, ...json(githubAppRequestSchema) },
          responses: {
            '200': { description: 'The App', ...json(githubAppViewSchema) },
            ...errors(400, 401, 403, 409, 503),
          },
        },
        delete: {
          operationId: 'deleteGithubApp',
          summary:
            'Forget the GitHub App saved in Backstage (integration.manage)',
          responses: { ...noContent, ...errors(401, 403, 404, 409) },
        },
      },
      '/gates': {
        post: {
          operationId: 'createGate',
          summary:
            'Add a database-managed deployment gate; it is matched after the gates of app-config (template.manage)',
          requestBody: { required: true, ...json(gateRequestSchema) },
          responses: {
            '201': { description: 'The new gate', ...json(gateViewSchema) },
            ...errors(400, 401, 403, 409),
          },
        },
      },
      '/gates/{name}': {
        put: {
          operationId: 'updateGate',
          summary:
            'Change a database-managed gate; the body names the same gate (template.manage)',
          parameters: [gateNameParameter],
          requestBody: { required: true, ...json(gateRequestSchema) },
          responses: {
            '200': { description: 'The updated gate', ...json(gateViewSchema) },
            ...errors(400, 401, 403, 404, 409),
          },
        },
        delete: {
          operationId: 'deleteGate',
          summary:
            'Remove a database-managed gate; jobs it already holds keep their approvals (template.manage)',
          parameters: [gateNameParameter],
          responses: { ...noContent, ...errors(401, 403, 404, 409) },
        },
      },
      '/templates': {
        get: {
          operationId: 'listTemplates',
          summary:
            'Approval templates from app-config and the database (template.manage or approval.read)',
          responses: {
            '200': {
              description: 'All templates',
              ...json(templateListSchema),
            },
            ...errors(401, 403),
          },
        },
        post: {
          operationId: 'createTemplate',
          summary: 'Add a database-managed template (template.manage)',
          requestBody: { required: true, ...json(templateRequestSchema) },
          responses: {
            '201': {
              description: 'The new template',
              ...json(templateViewSchema),
            },
            ...errors(400, 401, 403, 409),
          },
        },
      },
      '/templates/{name}': {
        get: {
          operationId: 'getTemplate',
          summary: 'One template (template.manage or approval.read)',
          parameters: [templateNameParameter],
          responses: {
            '200': { description: 'The template', ...json(templateViewSchema) },
            ...errors(401, 403, 404),
          },
        },
        put: {
          operationId: 'updateTemplate',
          summary:
            'Change a database-managed template; the body names the same template (template.manage)',
          parameters: [templateNameParameter],
          requestBody: { required: true, ...json(templateRequestSchema) },
          responses: {
            '200': {
              description: 'The updated template',
              ...json(templateViewSchema),
            },
            ...errors(400, 401, 403, 404, 409),
          },
        },
        delete: {
          operationId: 'deleteTemplate',
          summary:
            'Remove a database-managed template; its approvals stay (template.manage)',
          parameters: [templateNameParameter],
          responses: { ...noContent, ...errors(401, 403, 404, 409) },
        },
      },
      '/templates/{name}/form': {
        post: {
          operationId: 'saveTemplateForm',
          summary:
            'Create the IM form of a template with form: { create: true }, or update the one made before in place, keeping its id (template.manage)',
          parameters: [templateNameParameter],
          responses: {
            '200': {
              description: 'The form as made in the IM',
              ...json(managedFormSchema),
            },
            ...errors(400, 401, 403, 404, 409, 502),
          },
        },
      },
      '/templates/{name}/test': {
        post: {
          operationId: 'testTemplate',
          summary:
            'Open a real approval marked as a test, with sample values, on behalf of the caller (template.manage; people only)',
          parameters: [templateNameParameter],
          requestBody: { required: false, ...json(testTemplateRequestSchema) },
          responses: {
            '201': {
              description: 'The test approval',
              ...json(approvalSchema),
            },
            ...errors(400, 401, 403, 404, 502),
          },
        },
      },
    },
  };
}
