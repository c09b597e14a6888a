import { buildOpenApiDocument } from '@im-approval/plugin-im-approval-common';
import { createRouter, type RouterOptions } from '../createRouter';

// The API as its OpenAPI document describes it, plus the IM callback routes (which the document
// leaves out: the IMs, not API clients, call them), so that suites can cover every route there is.

export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
  description?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
};

export type Method = 'get' | 'post' | 'put' | 'delete';

export interface Parameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  schema: JsonSchema;
}

export interface Operation {
  /** The OpenAPI operationId, or `callback:<provider>:<method>`. */
  id: string;
  method: Method;
  /** As in the document: `/approvals/{id}`. */
  path: string;
  parameters: Parameter[];
  body?: { schema: JsonSchema; required: boolean };
  /** The documented answers (`200`, `400`, …). */
  responses: string[];
  /** The IM whose signed callbacks this route takes. */
  callbackProvider?: string;
}

export const CALLBACK_PROVIDERS = ['feishu', 'dingtalk', 'wecom'] as const;
export type CallbackProvider = (typeof CALLBACK_PROVIDERS)[number];
/** The IMs whose card clicks come to a callback route of their own. */
export const CARD_CALLBACK_PROVIDERS = ['feishu'] as const;

const document = buildOpenApiDocument();

/** Follows `$ref`s into the document's components. */
export function resolve(schema: JsonSchema | undefined): JsonSchema {
  let current = schema ?? {};
  for (let depth = 0; current.$ref && depth < 20; depth++) {
    const id = current.$ref.replace('#/components/schemas/', '');
    const target = (document.components.schemas as Record<string, JsonSchema>)[
      id
    ];
    if (!target) throw new Error(`the API document has no schema ${id}`);
    current = target;
  }
  return current;
}

/** Every operation of the API document, and every IM's callback route. */
export function apiOperations(): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(
    document.paths as Record<string, Record<string, any>>,
  )) {
    for (const [method, operation] of Object.entries(methods)) {
      const body = operation.requestBody?.content?.['application/json']?.schema;
      operations.push({
        id: operation.operationId,
        method: method as Method,
        path,
        parameters: (operation.parameters ?? []).map((p: Parameter) => ({
          ...p,
          schema: resolve(p.schema),
        })),
        body: body && {
          schema: resolve(body),
          required: operation.requestBody.required ?? false,
        },
        responses: Object.keys(operation.responses ?? {}),
      });
    }
  }
  const callbackRoutes = [
    ...CALLBACK_PROVIDERS.map(provider => ({
      provider,
      suffix: '',
      id: provider,
    })),
    ...CARD_CALLBACK_PROVIDERS.map(provider => ({
      provider,
      suffix: '/cards',
      id: `${provider}-cards`,
    })),
  ];
  for (const { provider, suffix, id } of callbackRoutes) {
    for (const method of ['post', 'get'] as const) {
      operations.push({
        id: `callback:${id}:${method}`,
        method,
        path: `/callbacks/${provider}/{integrationId}${suffix}`,
        parameters: [
          {
            name: 'integrationId',
            in: 'path',
            required: true,
            schema: { type: 'string' },
          },
        ],
        responses: ['200', '400', '401', '404'],
        callbackProvider: provider,
      });
    }
  }
  return operations;
}

/** The routes the plugin's router really serves, as `METHOD /path/{param}` (`ALL` for any method). */
export function servedRoutes(): string[] {
  const none = {} as never;
  const options: RouterOptions = {
    service: none,
    intake: none,
    cards: none,
    settings: none,
    probe: none,
    connections: none,
    callers: none,
    github: none,
    auditor: none,
    logger: none,
  };
  const routes: string[] = [];
  const walk = (stack: any[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = String(layer.route.path).replace(/:([A-Za-z]+)/g, '{$1}');
        const methods = layer.route.methods._all
          ? ['ALL']
          : Object.keys(layer.route.methods).map(m => m.toUpperCase());
        for (const method of methods) routes.push(`${method} ${path}`);
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((createRouter(options) as any).stack);
  return routes;
}

/** An operation's path with its parameters filled in, each as a raw (already encoded) path segment. */
export function fillPath(
  operation: Operation,
  rawSegments: Record<string, string>,
): string {
  return operation.path.replace(/\{([A-Za-z]+)\}/g, (_, name: string) => {
    const value = rawSegments[name];
    if (value === undefined)
      throw new Error(`no value for path parameter ${name} of ${operation.id}`);
    return value;
  });
}

/** `METHOD /path` of an operation, as people read it. */
export const describeOperation = (operation: Operation) =>
  `${operation.method.toUpperCase()} ${operation.path}`;
