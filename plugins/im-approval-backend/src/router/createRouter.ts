import type {
  AuditorService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import {
  type Approval,
  cancelApprovalRequestSchema,
  createApprovalRequestSchema,
  decideApprovalRequestSchema,
  imApprovalApprovalCreatePermission,
  imApprovalApprovalDecidePermission,
  imApprovalApprovalReadPermission,
  approvalFacetsQuerySchema,
  listApprovalsQuerySchema,
  waitQuerySchema,
} from '@im-approval/plugin-im-approval-common';
import { NotAllowedError } from '@backstage/errors';
import {
  ImCallbackRejectedError,
  type ImCallbackRequest,
} from '@im-approval/plugin-im-approval-node';
import express, { type Request } from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import type { CallerResolver } from '../auth/CallerResolver';
import type { ApprovalCards } from '../service/ApprovalCards';
import type { ApprovalService } from '../service/ApprovalService';
import type { ImConnections } from '../service/ImConnections';
import type { ImEventIntake } from '../service/ImEventIntake';
import type { IntegrationProbe } from '../service/IntegrationProbe';
import type { Settings } from '../settings/openSettings';
import { createAudited } from './audited';
import { LongPollHeartbeat } from './LongPollHeartbeat';
import {
  githubSettingsRoutes,
  githubWebhookRoute,
  type GithubRoutesOptions,
} from './githubRoutes';
import { parseInput } from './parseInput';
import { refuseUnstorableText } from './refuseUnstorableText';
import { namedRequestErrors } from './requestErrors';
import { settingsRoutes } from './settingsRoutes';

export interface RouterOptions {
  service: ApprovalService;
  intake: ImEventIntake;
  cards: ApprovalCards;
  settings: Pick<Settings, 'integrations' | 'templates'>;
  probe: IntegrationProbe;
  connections: Pick<ImConnections, 'health'>;
  callers: CallerResolver;
  github: Omit<GithubRoutesOptions, 'callers' | 'audited'>;
  auditor: AuditorService;
  logger: LoggerService;
  /** Beats on held long-polls; default every 30 s. */
  heartbeat?: LongPollHeartbeat;
}

const idSchema = z.object({ id: z.uuid('expected an approval id (a UUID)') });

/** Aborts when the client goes away, so a long-poll does not outlive its request. */
function abortOnClose(request: Request): AbortSignal {
  const controller = new AbortController();
  request.on('close', () => controller.abort());
  return controller.signal;
}

export function createRouter({
  service,
  intake,
  cards,
  settings,
  probe,
  connections,
  callers,
  github,
  auditor,
  logger,
  heartbeat = new LongPollHeartbeat(30_000),
}: RouterOptions): express.Router {
  const router = Router();

  const audited = createAudited(auditor);
  router.use(refuseUnstorableText(['path', 'query']));

  // IM callbacks are authenticated by the IM's own signature and encryption, over the raw body.
  const imCallback =
    (
      kind: string,
      handle: (
        provider: string,
        integrationId: string,
        request: ImCallbackRequest,
      ) => Promise<{ status: number; contentType: string; body: string }>,
    ) =>
    async (req: Request, res: express.Response) => {
      const { provider, integrationId } = req.params;
      try {
        const reply = await handle(provider, integrationId, {
          method: req.method,
          headers: req.headers,
          query: req.query as Record<string, string>,
          rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        });
        res.status(reply.status).type(reply.contentType).send(reply.body);
      } catch (error) {
        if (!(error instanceof ImCallbackRejectedError)) throw error;
        logger.warn(
          `Rejected a ${provider} ${kind} for integration ${integrationId}: ${error.message}`,
        );
        res.status(error.status).json({
          error: { name: 'CallbackRejected', message: error.message },
        });
      }
    };
  const rawBody = express.raw({ type: () => true, limit: '1mb' });
  router.all(
    '/callbacks/:provider/:integrationId',
    rawBody,
    imCallback('callback', (...args) => intake.handleCallback(...args)),
  );
  router.all(
    '/callbacks/:provider/:integrationId/cards',
    rawBody,
    imCallback('card callback', (...args) => cards.handleCallback(...args)),
  );

  router.use(githubWebhookRoute(github));

  router.use(express.json({ limit: '256kb' }));
  router.use(refuseUnstorableText(['body']));

  router.post('/approvals', async (req, res) => {
    const caller = await callers.resolve(req);
    // Workflows are held to the template's policy instead (in the service, on every call).
    if (caller.kind !== 'github')
      await callers.authorize(caller, imApprovalApprovalCreatePermission);
    const body = parseInput(createApprovalRequestSchema, req.body, 'body');
    const { approval, created } = await audited(
      caller,
      req,
      { eventId: 'approval-create', meta: { template: body.template } },
      () => service.create(body, caller),
    );
    res.status(created ? 201 : 200).json(approval);
  });

  router.get('/approvals', async (req, res) => {
    const caller = await callers.resolve(req);
    const query = parseInput(listApprovalsQuerySchema, req.query, 'query');
    if (caller.kind === 'github') {
      query.repository = caller.context.repository;
    } else {
      await callers.authorize(caller, imApprovalApprovalReadPermission);
    }
    const { items, totalCount } = await service.list(query, caller);
    res.json({ items, totalCount, offset: query.offset, limit: query.limit });
  });

  router.get('/approval-facets', async (req, res) => {
    const caller = await callers.resolve(req);
    const query = parseInput(approvalFacetsQuerySchema, req.query, 'query');
    // A workflow lists only its own repository's approvals, so it is offered no facets of others.
    if (caller.kind === 'github')
      throw new NotAllowedError(
        'approval facets are for Backstage users; a workflow reads its own approvals',
      );
    await callers.authorize(caller, imApprovalApprovalReadPermission);
    res.json(await service.facets(query));
  });

  router.get('/approvals/:id', async (req, res) => {
    const caller = await callers.resolve(req);
    const { id } = parseInput(idSchema, req.params, 'path');
    const approval = await service.getWithTimeline(id);
    await callers.authorize(caller, imApprovalApprovalReadPermission, approval);
    res.json(approval);
  });

  router.get('/approvals/:id/wait', async (req, res) => {
    const caller = await callers.resolve(req);
    const { id } = parseInput(idSchema, req.params, 'path');
    const { timeout } = parseInput(waitQuerySchema, req.query, 'query');
    let held: { release(): void } | undefined;
    let approval: Approval;
    try {
      approval = await service.wait(id, timeout, {
        signal: abortOnClose(req),
        authorize: current =>
          callers.authorize(caller, imApprovalApprovalReadPermission, current),
        // Only once the approval is known and the caller may read it: until then a refusal is still a status.
        onHold: () => (held = heartbeat.hold(res)),
      });
    } catch (error) {
      // Before any beat, the error is still a status; after one, only the connection can end.
      if (!res.headersSent) throw error;
      logger.warn(
        `Long-poll of approval ${id} ended after its status was sent: ${(error as Error).message}`,
      );
      res.destroy();
      return;
    } finally {
      held?.release();
    }
    if (res.destroyed) return;
    if (res.headersSent) {
      res.end(JSON.stringify(approval));
      return;
    }
    // The answer is small and latency is its point: never held back for compression.
    res.setHeader('cache-control', 'no-store, no-transform');
    res.json(approval);
  });

  router.post('/approvals/:id/cancel', async (req, res) => {
    const caller = await callers.resolve(req);
    const { id } = parseInput(idSchema, req.params, 'path');
    const { reason } = parseInput(
      cancelApprovalRequestSchema,
      req.body,
      'body',
    );
    await callers.authorize(
      caller,
      imApprovalApprovalDecidePermission,
      await service.get(id),
    );
    res.json(
      await audited(
        caller,
        req,
        { eventId: 'approval-cancel', meta: { approvalId: id } },
        () => service.cancel(id, caller, reason),
      ),
    );
  });

  router.post('/approvals/:id/decision', async (req, res) => {
    const caller = await callers.resolve(req);
    const { id } = parseInput(idSchema, req.params, 'path');
    const body = parseInput(decideApprovalRequestSchema, req.body, 'body');
    // A workflow or service token must never be able to approve what it asked for.
    if (caller.kind !== 'user') {
      throw new NotAllowedError(
        'Only people signed in to Backstage may decide approvals outside the IM',
      );
    }
    await callers.authorize(caller, imApprovalApprovalDecidePermission, { id });
    const meta = { approvalId: id, decision: body.decision };
    res.json(
      await audited(
        caller,
        req,
        { eventId: 'approval-decide', severityLevel: 'medium', meta },
        () => service.decide(id, caller, body),
      ),
    );
  });

  router.use(
    settingsRoutes({
      settings,
      probe,
      connections,
      service,
      callers,
      audited,
    }),
  );
  router.use(githubSettingsRoutes({ ...github, callers, audited }));
  router.use(namedRequestErrors(router));

  return router;
}
