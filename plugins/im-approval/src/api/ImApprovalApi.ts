import { createApiRef } from '@backstage/core-plugin-api';
import type {
  Approval,
  ApprovalWithTimeline,
  Capabilities,
  CreateIntegrationRequest,
  DecideApprovalRequest,
  FormDescription,
  GateRequest,
  GateView,
  GithubAppRequest,
  GithubAppView,
  GithubSetup,
  IntegrationHealthList,
  IntegrationTestResult,
  IntegrationView,
  ApprovalFacets,
  ManagedForm,
  ListApprovalsQuery,
  ListApprovalsResponse,
  TemplateRequest,
  TemplateView,
  TestTemplateRequest,
  UpdateIntegrationRequest,
} from '@im-approval/plugin-im-approval-common';

/**
 * Filters and page of the approvals list; what is left out takes the API's default.
 *
 * @public
 */
export type ApprovalsFilter = Partial<ListApprovalsQuery>;

/**
 * The im-approval backend as the UI uses it; every answer is parsed with the common schemas.
 *
 * @public
 */
export interface ImApprovalApi {
  /** The plugin's API root as the browser reaches it, e.g. `http://localhost:7007/api/im-approval`. */
  getBaseUrl(): Promise<string>;
  getCapabilities(): Promise<Capabilities>;

  listApprovals(filter: ApprovalsFilter): Promise<ListApprovalsResponse>;
  /** Templates and repositories of recent approvals containing `q`, to pick a filter from. */
  listApprovalFacets(q?: string): Promise<ApprovalFacets>;
  getApproval(id: string): Promise<ApprovalWithTimeline>;
  cancelApproval(id: string, reason?: string): Promise<Approval>;
  decideApproval(
    id: string,
    decision: DecideApprovalRequest,
  ): Promise<Approval>;

  listIntegrations(): Promise<IntegrationView[]>;
  createIntegration(
    integration: CreateIntegrationRequest,
  ): Promise<IntegrationView>;
  updateIntegration(
    id: string,
    integration: UpdateIntegrationRequest,
  ): Promise<IntegrationView>;
  deleteIntegration(id: string): Promise<void>;
  testIntegration(id: string): Promise<IntegrationTestResult>;
  /** Tests settings as typed, before saving; secrets left out are those of the saved app with that id. */
  testIntegrationSettings(
    integration: UpdateIntegrationRequest,
  ): Promise<IntegrationTestResult>;
  /** Each app's connection, last event and last error, as the backend replica that answers sees them. */
  listIntegrationHealth(): Promise<IntegrationHealthList>;
  describeForm(integrationId: string, formId: string): Promise<FormDescription>;

  /** The GitHub App's webhook URL, permissions and events, the gates, and the latest deliveries. */
  getGithubSetup(): Promise<GithubSetup>;
  saveGithubApp(app: GithubAppRequest): Promise<GithubAppView>;
  deleteGithubApp(): Promise<void>;
  createGate(gate: GateRequest): Promise<GateView>;
  updateGate(name: string, gate: GateRequest): Promise<GateView>;
  deleteGate(name: string): Promise<void>;

  listTemplates(): Promise<TemplateView[]>;
  createTemplate(template: TemplateRequest): Promise<TemplateView>;
  updateTemplate(
    name: string,
    template: TemplateRequest,
  ): Promise<TemplateView>;
  deleteTemplate(name: string): Promise<void>;
  /** Creates the IM form of a template with `form: { create: true }`, or updates the one made before. */
  saveTemplateForm(name: string): Promise<ManagedForm>;
  sendTestApproval(
    name: string,
    request: TestTemplateRequest,
  ): Promise<Approval>;
}

/** @public */
export const imApprovalApiRef = createApiRef<ImApprovalApi>({
  id: 'plugin.im-approval.service',
});
