import { Header, Page, TabbedLayout } from '@backstage/core-components';
import { Route, Routes } from 'react-router-dom';
import { imApprovalApprovalReadPermission } from '@im-approval/plugin-im-approval-common';
import { ApprovalDetail } from '../approvals/ApprovalDetail';
import { ApprovalsList } from '../approvals/ApprovalsList';
import { GatesPage } from '../gates/GatesPage';
import { IntegrationsPage } from '../integrations/IntegrationsPage';
import { BasePathProvider } from '../shared/basePath';
import { PermissionGate } from '../shared/PermissionGate';
import { TemplatesPage } from '../templates/TemplatesPage';

/** The plugin's page: approvals (with their audit trail), IM apps, templates and deployment gates, one tab each. */
export function ImApprovalPage() {
  return (
    <BasePathProvider>
      <Page themeId="tool">
        <Header
          title="IM approvals"
          subtitle="GitHub Actions approvals decided in Feishu / Lark, DingTalk or WeCom"
        />
        <TabbedLayout>
          <TabbedLayout.Route path="/" title="Approvals">
            <PermissionGate
              permission={imApprovalApprovalReadPermission}
              what="read approvals"
            >
              <Routes>
                <Route path="/" element={<ApprovalsList />} />
                <Route path="/approvals/:id" element={<ApprovalDetail />} />
              </Routes>
            </PermissionGate>
          </TabbedLayout.Route>
          <TabbedLayout.Route path="/im-apps" title="IM apps">
            <IntegrationsPage />
          </TabbedLayout.Route>
          <TabbedLayout.Route path="/templates" title="Templates">
            <TemplatesPage />
          </TabbedLayout.Route>
          <TabbedLayout.Route path="/gates" title="Deployment gates">
            <GatesPage />
          </TabbedLayout.Route>
        </TabbedLayout>
      </Page>
    </BasePathProvider>
  );
}
