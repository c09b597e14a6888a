import { z } from 'zod';
import {
  approvalSchema,
  approvalWithTimelineSchema,
  cancelApprovalRequestSchema,
  createApprovalRequestSchema,
  errorResponseSchema,
  listApprovalsQuerySchema,
  listApprovalsResponseSchema,
  waitQuerySchema,
} from './approvals';

type Schema = z.ZodType;

const json = (schema: Schema) => ({ content: { 'application/json': { schema: ref(schema) } } });
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map(code => [String(code), { description: ERROR_TEXT[code], ...json(errorResponseSchema) }]));
const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid input; the message names the field',
  401: 'No valid credentials',
  403: 'The caller may not do this (policy or permission)',
  404: 'No such approval',
  409: 'The approval is already decided, or the idempotency key belongs to another request',
};

const componentUri = (id: string) => `#/components/schemas/${id}`;

/** Points zod's `#/$defs/…` references at the document's components. */
function toComponentRefs<T>(jsonSchema: T): T {
  return JSON.parse(JSON.stringify(jsonSchema).replaceAll('"#/$defs/', '"#/components/schemas/'));
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
  const document = toComponentRefs(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' })) as {
    $defs: Record<string, { properties: Record<string, object>; required?: string[] }>;
  };
  const jsonSchema = document.$defs[idOf(schema)];
  return Object.entries(jsonSchema.properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: jsonSchema.required?.includes(name) ?? false,
    schema: property,
  }));
}

const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };

/** The OpenAPI 3.1 document of the plugin's API, derived from the zod schemas. */
export function buildOpenApiDocument() {
  const components = toComponentRefs(z.toJSONSchema(
    z.object({
      createApproval: createApprovalRequestSchema,
      cancelApproval: cancelApprovalRequestSchema,
      approval: approvalSchema,
      approvalWithTimeline: approvalWithTimelineSchema,
      list: listApprovalsResponseSchema,
      error: errorResponseSchema,
    }),
    { io: 'input', unrepresentable: 'any' },
  )) as { $defs: Record<string, object> };

  return {
    openapi: '3.1.0',
    info: {
      title: 'im-approval',
      version: '1',
      description: 'Approvals decided in Feishu/Lark, DingTalk or WeCom, for GitHub Actions. Served under /api/im-approval.',
    },
    servers: [{ url: '/api/im-approval' }],
    components: {
      schemas: components.$defs,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A GitHub Actions OIDC token, a Backstage static external-access token, or a Backstage user token',
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
            '200': { description: 'The approval this idempotency key already opened', ...json(approvalSchema) },
            '201': { description: 'A new approval', ...json(approvalSchema) },
            ...errors(400, 401, 403, 409),
          },
        },
        get: {
          operationId: 'listApprovals',
          summary: 'Approvals, newest first',
          parameters: queryParameters(listApprovalsQuerySchema),
          responses: { '200': { description: 'A page of approvals', ...json(listApprovalsResponseSchema) }, ...errors(400, 401, 403) },
        },
      },
      '/approvals/{id}': {
        get: {
          operationId: 'getApproval',
          summary: 'An approval with its timeline',
          parameters: [idParameter],
          responses: { '200': { description: 'The approval', ...json(approvalWithTimelineSchema) }, ...errors(401, 403, 404) },
        },
      },
      '/approvals/{id}/wait': {
        get: {
          operationId: 'waitForApproval',
          summary: 'Long-poll: answers when the approval leaves pending, or at the timeout with pending',
          parameters: [idParameter, ...queryParameters(waitQuerySchema)],
          responses: { '200': { description: 'The approval as it is now', ...json(approvalSchema) }, ...errors(400, 401, 403, 404) },
        },
      },
      '/approvals/{id}/cancel': {
        post: {
          operationId: 'cancelApproval',
          summary: 'Cancel a pending approval and revoke its IM instance where the IM allows it',
          parameters: [idParameter],
          requestBody: { required: false, ...json(cancelApprovalRequestSchema) },
          responses: { '200': { description: 'The canceled approval', ...json(approvalSchema) }, ...errors(400, 401, 403, 404, 409) },
        },
      },
    },
  };
}
