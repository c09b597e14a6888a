import type { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import {
  approvalSchema,
  approvalWithTimelineSchema,
  capabilitiesSchema,
  formDescriptionSchema,
  gateViewSchema,
  githubAppViewSchema,
  githubSetupSchema,
  integrationHealthListSchema,
  integrationListSchema,
  integrationTestResultSchema,
  integrationViewSchema,
  approvalFacetsSchema,
  listApprovalsResponseSchema,
  managedFormSchema,
  templateListSchema,
  templateViewSchema,
  type CreateIntegrationRequest,
  type DecideApprovalRequest,
  type GateRequest,
  type GithubAppRequest,
  type TemplateRequest,
  type TestTemplateRequest,
  type UpdateIntegrationRequest,
} from '@im-approval/plugin-im-approval-common';
import { z } from 'zod';
import type { ApprovalsFilter, ImApprovalApi } from './ImApprovalApi';

/** @public */
export const PLUGIN_ID = 'im-approval';

const noContent = z.undefined();
const segment = encodeURIComponent;

/**
 * Talks to `/api/im-approval` with the signed-in user's credentials (fetchApi adds them).
 *
 * @public
 */
export class ImApprovalClient implements ImApprovalApi {
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;

  constructor(options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi;
  }

  /** The plugin's API root, e.g. `http://localhost:7007/api/im-approval`. */
  getBaseUrl(): Promise<string> {
    return this.discoveryApi.getBaseUrl(PLUGIN_ID);
  }

  getCapabilities() {
    return this.request(capabilitiesSchema, '/capabilities');
  }

  listApprovals(filter: ApprovalsFilter) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) {
      if (value !== undefined && value !== '') query.set(key, String(value));
    }
    return this.request(
      listApprovalsResponseSchema,
      query.size > 0 ? `/approvals?${query}` : '/approvals',
    );
  }

  listApprovalFacets(q?: string) {
    const query = q?.trim() ? `?${new URLSearchParams({ q: q.trim() })}` : '';
    return this.request(approvalFacetsSchema, `/approval-facets${query}`);
  }

  getApproval(id: string) {
    return this.request(
      approvalWithTimelineSchema,
      `/approvals/${segment(id)}`,
    );
  }

  cancelApproval(id: string, reason?: string) {
    return this.request(approvalSchema, `/approvals/${segment(id)}/cancel`, {
      method: 'POST',
      body: { reason },
    });
  }

  decideApproval(id: string, decision: DecideApprovalRequest) {
    return this.request(approvalSchema, `/approvals/${segment(id)}/decision`, {
      method: 'POST',
      body: decision,
    });
  }

  async listIntegrations() {
    return (await this.request(integrationListSchema, '/integrations')).items;
  }

  createIntegration(integration: CreateIntegrationRequest) {
    return this.request(integrationViewSchema, '/integrations', {
      method: 'POST',
      body: integration,
    });
  }

  updateIntegration(id: string, integration: UpdateIntegrationRequest) {
    return this.request(integrationViewSchema, `/integrations/${segment(id)}`, {
      method: 'PUT',
      body: integration,
    });
  }

  async deleteIntegration(id: string) {
    await this.request(noContent, `/integrations/${segment(id)}`, {
      method: 'DELETE',
    });
  }

  testIntegration(id: string) {
    return this.request(
      integrationTestResultSchema,
      `/integrations/${segment(id)}/test`,
      { method: 'POST' },
    );
  }

  testIntegrationSettings(integration: UpdateIntegrationRequest) {
    return this.request(integrationTestResultSchema, '/integrations/test', {
      method: 'POST',
      body: integration,
    });
  }

  listIntegrationHealth() {
    return this.request(integrationHealthListSchema, '/integration-health');
  }

  describeForm(integrationId: string, formId: string) {
    return this.request(
      formDescriptionSchema,
      `/integrations/${segment(integrationId)}/forms/${segment(formId)}`,
    );
  }

  getGithubSetup() {
    return this.request(githubSetupSchema, '/github/setup');
  }

  saveGithubApp(app: GithubAppRequest) {
    return this.request(githubAppViewSchema, '/github/app', {
      method: 'PUT',
      body: app,
    });
  }

  async deleteGithubApp() {
    await this.request(noContent, '/github/app', { method: 'DELETE' });
  }

  createGate(gate: GateRequest) {
    return this.request(gateViewSchema, '/gates', {
      method: 'POST',
      body: gate,
    });
  }

  updateGate(name: string, gate: GateRequest) {
    return this.request(gateViewSchema, `/gates/${segment(name)}`, {
      method: 'PUT',
      body: gate,
    });
  }

  async deleteGate(name: string) {
    await this.request(noContent, `/gates/${segment(name)}`, {
      method: 'DELETE',
    });
  }

  async listTemplates() {
    return (await this.request(templateListSchema, '/templates')).items;
  }

  createTemplate(template: TemplateRequest) {
    return this.request(templateViewSchema, '/templates', {
      method: 'POST',
      body: template,
    });
  }

  updateTemplate(name: string, template: TemplateRequest) {
    return this.request(templateViewSchema, `/templates/${segment(name)}`, {
      method: 'PUT',
      body: template,
    });
  }

  async deleteTemplate(name: string) {
    await this.request(noContent, `/templates/${segment(name)}`, {
      method: 'DELETE',
    });
  }

  saveTemplateForm(name: string) {
    return this.request(managedFormSchema, `/templates/${segment(name)}/form`, {
      method: 'POST',
    });
  }

  sendTestApproval(name: string, request: TestTemplateRequest) {
    return this.request(approvalSchema, `/templates/${segment(name)}/test`, {
      method: 'POST',
      body: request,
    });
  }

  /** Sends JSON, turns a non-2xx answer into a ResponseError (with the backend's message), parses the body. */
  private async request<S extends z.ZodType>(
    schema: S,
    path: string,
    init: { method?: string; body?: unknown } = {},
  ): Promise<z.output<S>> {
    const baseUrl = await this.getBaseUrl();
    const response = await this.fetchApi.fetch(`${baseUrl}${path}`, {
      method: init.method ?? 'GET',
      headers:
        init.body === undefined
          ? undefined
          : { 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    if (!response.ok) throw await ResponseError.fromResponse(response);
    const text = await response.text();
    return schema.parse(text ? JSON.parse(text) : undefined);
  }
}
