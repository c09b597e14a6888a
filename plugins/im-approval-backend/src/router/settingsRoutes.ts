import {
  capabilitiesSchema,
  createIntegrationRequestSchema,
  formIdSchema,
  imApprovalApprovalDecidePermission,
  imApprovalApprovalReadPermission,
  imApprovalIntegrationManagePermission,
  imApprovalTemplateManagePermission,
  integrationHealthListSchema,
  integrationIdSchema,
  templateNameSchema,
  templateRequestSchema,
  testTemplateRequestSchema,
  updateIntegrationRequestSchema,
} from '@im-approval/plugin-im-approval-common';
import { InputError, NotAllowedError } from '@backstage/errors';
import Router from 'express-promise-router';
import type express from 'express';
import { z } from 'zod';
import type { CallerResolver } from '../auth/CallerResolver';
import type { ApprovalService } from '../service/ApprovalService';
import type { ImConnections } from '../service/ImConnections';
import type { IntegrationProbe } from '../service/IntegrationProbe';
import { endpointsOf } from '../settings/IntegrationSettings';
import type { Settings } from '../settings/openSettings';
import type { Audited } from './audited';
import { askIm } from './imErrors';
import { parseInput } from './parseInput';

export interface SettingsRoutesOptions {
  settings: Pick<Settings, 'integrations' | 'templates'>;
  probe: IntegrationProbe;
  connections: Pick<ImConnections, 'health'>;
  service: ApprovalService;
  callers: CallerResolver;
  audited: Audited;
}

const integrationPathSchema = z.object({ id: integrationIdSchema });
const formPathSchema = z.object({
  id: integrationIdSchema,
  formId: formIdSchema,
});
const templatePathSchema = z.object({ name: templateNameSchema });

/** Integrations, templates and what the caller may do with them. */
export function settingsRoutes({
  settings: { integrations, templates },
  probe,
  connections,
  service,
  callers,
  audited,
}: SettingsRoutesOptions): express.Router {
  const router = Router();
  const manageIntegrations = [imApprovalIntegrationManagePermission];
  const manageTemplates = [imApprovalTemplateManagePermission];
  // Template editors pick an integration and load its forms; approval readers see what templates exist.
  const readIntegrations = [
    imApprovalIntegrationManagePermission,
    imApprovalTemplateManagePermission,
  ];
  const readTemplates = [
    imApprovalTemplateManagePermission,
    imApprovalApprovalReadPermission,
  ];

  router.get('/capabilities', async (req, res) => {
    const caller = await callers.resolve(req);
    if (caller.kind === 'github')
      throw new NotAllowedError(
        'Capabilities are for people using the im-approval pages, not for workflows',
      );
    const [manageIntegration, manageTemplate, readApprovals, decideApprovals] =
      await callers.allowed(caller, [
        imApprovalIntegrationManagePermission,
        imApprovalTemplateManagePermission,
        imApprovalApprovalReadPermission,
        imApprovalApprovalDecidePermission,
      ]);
    res.json(
      capabilitiesSchema.parse({
        manageIntegrations: manageIntegration,
        manageTemplates: manageTemplate,
        readApprovals,
        decideApprovals,
        databaseSettings: integrations.writable,
      }),
    );
  });

  router.get('/integrations', async (req, res) => {
    await callers.authorizeAny(await callers.resolve(req), readIntegrations);
    res.json({ items: await integrations.list() });
  });

  // Each replica holds its own connections and hears its own callbacks: this is the answering one's view.
  router.get('/integration-health', async (req, res) => {
    await callers.authorizeAny(await callers.resolve(req), readIntegrations);
    res.json(
      integrationHealthListSchema.parse({
        scope: 'replica',
        observedAt: new Date().toISOString(),
        items: connections.health(await integrations.list()),
      }),
    );
  });

  router.get('/integrations/:id', async (req, res) => {
    await callers.authorizeAny(await callers.resolve(req), readIntegrations);
    const { id } = parseInput(integrationPathSchema, req.params, 'path');
    res.json(await integrations.view(id));
  });

  router.post('/integrations', async (req, res) => {
    const caller = await callers.resolve(req);
    await callers.authorizeAny(caller, manageIntegrations);
    const body = parseInput(createIntegrationRequestSchema, req.body, 'body');
    const meta = { integrationId: body.id, provider: body.provider };
    const view = await audited(
      caller,
      req,
      { eventId: 'integration-create', severityLevel: 'medium', meta },
      () => integrations.create(body, caller.id),
    );
    res.status(201).json(view);
  });

  router.put('/integrations/:id', async (req, res) => {
    const caller = await callers.resolve(req);
    await callers.authorizeAny(caller, manageIntegrations);
    const { id } = parseInput(integrationPathSchema, req.params, 'path');
    const body = parseInput(updateIntegrationRequestSchema, req.body, 'body');
    res.json(
      await audited(
        caller,
        req,
        {
          eventId: 'integration-update',
          severityLevel: 'medium',
          meta: { integrationId: id },
        },
        () => integrations.update(id, body, caller.id),
      ),
    );
  });

  router.delete('/integrations/:id', async (req, res) => {
    const caller = await callers.resolve(req);
    await callers.authorizeAny(caller, manageIntegrations);
    const { id } = parseInput(integrationPathSchema, req.params, 'path');
    await audited(
      caller,
      req,
      {
        eventId: 'integration-delete',
        severityLevel: 'medium',
        meta: { integrationId: id },
      },
      () => integrations.delete(id),
    );
    res.status(204).end();
  });

  router.post('/integrations/:id/test', async (req, res) => {
    const caller = await callers.resolve(req);
    await callers.authorizeAny(caller, manageIntegrations);
    const { id } = parseInput(integrationPathSchema, req.params, 'path');
    res.json(
      await audited(
        caller,
        req,
        { eventId: 'integration-test', meta: { integrationId: id } },
        () => probe.test(id),
      ),
    );
  });

  // Settings as typed in the IM app form, tested before they are saved (IntegrationSettings.unsaved).
  router.post('/integrations/test', async (req, res) => {
    const caller = await callers.resolve(req);
    await callers.authorizeAny(caller, manageIntegrations);
    const body = parseInput(updateIntegrationRequestSchema, req.body, 'body');
    const integration = await integrations.unsaved(body);
    res.json(
      await audited(
        caller,
        req,
        {
          eventId: 'integration-test',
          meta: {
            integrationId: body.id,
            provider: body.provider,
            saved: false,
            urls: endpointsOf(integration),
          },
        },
        () => probe.testUnsaved(integration),
      ),
    );
  });

  router.get('/integrations/:id/forms/:formId', async (req, res) => {
    await callers.authorizeAny(await callers.resolve(req), readIntegrations);
    const { id, formId } = parseInput(formPathSchema, req.params, 'path');
    try {
      res.json(await askIm(() => probe.describeForm(id, formId)));
    } catch (error) {
      // The IM refusing to read the form is about the one thing the request gave it.
      if (error instanceof InputError)
        throw new InputError(`path.formId: ${error.message}`);
      throw error;
    }
  });

  router.get('/templates', async (req, res) => {
    await callers.authorizeAny(await callers.resolve(req), readTemplates);
    res.json({ items: await templates.list() });
  });

  router.get('/templates/:name', async (req, res) => {
    await callers.authorizeAny(await callers.resolve(req), readTemplates);
    const { name } = parseInput(templatePathSchema, req.params, 'path');
    res.json(await templates.view(name));
  });

  router.post('/templates', async (req, res) => {
    const caller = await callers.resolve(req);
    await callers.authorizeAny(caller, manageTemplates);
    const body = parseInput(templateRequestSchema, req.body, 'body');
    const view = await audited(
      caller,
      req,
      { eventId: 'template-create', meta: { template: body.name } },
      () => templates.create(body, caller.id),
    );
    res.status(201).json(view);
  });

  router.put('/templates/:name', async (req, res) => {
    const caller = await callers.resolve(req);
    await callers.authorizeAny(caller, manageTemplates);
    const { name } = parseInput(templatePathSchema, req.params, 'path');
    const body = parseInput(templateRequestSchema, req.body, 'body');
    res.json(
      await audited(
        caller,
        req,
        { eventId: 'template-update', meta: { template: name } },
        () => templates.update(name, body, caller.id),
      ),
    );
  });

  router.delete('/templates/:name', async (req, res) => {
    const caller = await callers.resolve(req);
    await callers.authorizeAny(caller, manageTemplates);
    const { name } = parseInput(templatePathSchema, req.params, 'path');
    await audited(
      caller,
      req,
      { eventId: 'template-delete', meta: { template: name } },
      () => templates.delete(name),
    );
    res.status(204).end();
  });

  // Makes (or updates in place) the IM form of a template with form: { create: true }, config ones too.
  router.post('/templates/:name/form', async (req, res) => {
    const caller = await callers.resolve(req);
    await callers.authorizeAny(caller, manageTemplates);
    const { name } = parseInput(templatePathSchema, req.params, 'path');
    const form = await audited(
      caller,
      req,
      { eventId: 'template-form-save', meta: { template: name } },
      () => askIm(() => templates.saveForm(name)),
    );
    res.json(form);
  });

  router.post('/templates/:name/test', async (req, res) => {
    const caller = await callers.resolve(req);
    // A test approval is opened on behalf of the person who asked, so only a person may ask.
    if (caller.kind !== 'user')
      throw new NotAllowedError(
        'Only people signed in to Backstage may send test approvals',
      );
    await callers.authorizeAny(caller, manageTemplates);
    const { name } = parseInput(templatePathSchema, req.params, 'path');
    const body = parseInput(testTemplateRequestSchema, req.body, 'body');
    const approval = await audited(
      caller,
      req,
      { eventId: 'template-test', meta: { template: name } },
      () => askIm(() => service.sendTest(name, body, caller)),
    );
    res.status(201).json(approval);
  });

  return router;
}
