import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { notificationService } from '@backstage/plugin-notifications-node';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import {
  imApprovalApprovalDecidePermission,
  imApprovalPermissions,
} from '@im-approval/plugin-im-approval-common';
import {
  approvalPermissionRules,
  approvalResourceRef,
} from './permissions/approvalRules';
import type { ImProvider } from '@im-approval/plugin-im-approval-node';
import { CallerResolver } from './auth/CallerResolver';
import { GithubOidcVerifier } from './auth/GithubOidcVerifier';
import { readImApprovalConfig } from './config/readImApprovalConfig';
import { dingtalkProvider } from './providers/dingtalk';
import { feishuProvider } from './providers/feishu';
import { wecomProvider } from './providers/wecom';
import { createRouter } from './router/createRouter';
import { LongPollHeartbeat } from './router/LongPollHeartbeat';
import { ApprovalExpiry } from './service/ApprovalExpiry';
import { ApprovalCards } from './service/ApprovalCards';
import { ApprovalFollowUps } from './service/ApprovalFollowUps';
import { ApprovalService } from './service/ApprovalService';
import { ApprovalTransitions } from './service/ApprovalTransitions';
import { ImClients } from './service/ImClients';
import { ImConnections } from './service/ImConnections';
import { ImEventIntake } from './service/ImEventIntake';
import { CountedStages } from './service/CountedStages';
import { ImInstanceOpener } from './service/ImInstanceOpener';
import { IntegrationProbe } from './service/IntegrationProbe';
import { Reconciler } from './service/Reconciler';
import { openSettings } from './settings/openSettings';
import { DatabaseManagedFormStore } from './database/DatabaseManagedFormStore';
import { DatabaseSettingsStore } from './database/DatabaseSettingsStore';
import { SecretBox } from './settings/SecretBox';
import { DatabaseApprovalStore } from './database/DatabaseApprovalStore';
import { isPostgres, migratedClient } from './database/migratedClient';
import { DatabaseEventInbox } from './database/DatabaseEventInbox';
import { ApprovalChanges } from './waiting/ApprovalChanges';
import { LocalChangeBus } from './waiting/ChangeBus';
import { raiseOpenFileLimit } from './waiting/openFileLimit';
import {
  INTEGRATIONS_CHANNEL,
  PostgresChangeBus,
} from './waiting/PostgresChangeBus';
import { DatabaseGateStore } from './database/DatabaseGateStore';
import { CommitCounter } from './github/CommitCounter';
import { DeploymentGates } from './github/DeploymentGates';
import { GithubWebhook } from './github/GithubWebhook';
import { DatabaseGithubSettingsStore } from './database/DatabaseGithubSettingsStore';
import { GithubSettings } from './settings/GithubSettings';
import { ApprovalPeople } from './people/ApprovalPeople';
import { CatalogPeople } from './people/CatalogPeople';
import { ApprovalNotifications } from './notifications/ApprovalNotifications';
import { ApprovalSignals } from './notifications/ApprovalSignals';

/**
 * Approvals for GitHub Actions, decided in Feishu/Lark, DingTalk or WeCom.
 *
 * @public
 */
export const imApprovalPlugin = createBackendPlugin({
  pluginId: 'im-approval',
  register(env) {
    // The IMs are built in: each one's config shape is in the common schemas and its form in the UI,
    // so a provider from a module would have nowhere to come from (CONTRIBUTING: adding an IM).
    const providers = new Map<string, ImProvider>(
      [feishuProvider, dingtalkProvider, wecomProvider].map(provider => [
        provider.id,
        provider as ImProvider,
      ]),
    );

    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        database: coreServices.database,
        scheduler: coreServices.scheduler,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        auditor: coreServices.auditor,
        lifecycle: coreServices.lifecycle,
        discovery: coreServices.discovery,
        auth: coreServices.auth,
        catalog: catalogServiceRef,
        notifications: notificationService,
        signals: signalsServiceRef,
      },
      async init({
        config,
        logger,
        database,
        scheduler,
        httpRouter,
        httpAuth,
        permissions,
        permissionsRegistry,
        auditor,
        lifecycle,
        discovery,
        auth,
        catalog,
        notifications,
        signals,
      }) {
        const settings = readImApprovalConfig(config);
        await raiseOpenFileLimit(logger);
        const clients = new ImClients(providers, {
          logger,
          callbackMaxAgeSeconds: settings.callbackMaxAgeSeconds,
          keepToRateLimits: settings.keepToImRateLimits,
        });
        settings.integrations.forEach(integration =>
          clients.check(integration),
        );

        const knex = await migratedClient(database);
        const store = new DatabaseApprovalStore(knex);
        const box =
          settings.secretsKeys.length > 0
            ? new SecretBox(settings.secretsKeys)
            : undefined;
        const managedSettings = await openSettings({
          config: settings,
          store: new DatabaseSettingsStore(knex),
          forms: new DatabaseManagedFormStore(knex),
          box,
          clients,
          logger,
        });
        if (!managedSettings.integrations.writable) {
          logger.info(
            'imApproval.secretsKey is not configured: IM apps can be added in app-config only',
          );
        }
        const changes = isPostgres(knex)
          ? new ApprovalChanges(new PostgresChangeBus(knex, logger), logger, {
              recheck: { versions: ids => store.versions(ids) },
            })
          : new ApprovalChanges(new LocalChangeBus(), logger);
        await changes.start();
        lifecycle.addShutdownHook(() => changes.stop());

        const transitions = new ApprovalTransitions({
          store,
          settings: managedSettings.source,
          clients,
          changes,
          logger,
        });
        const githubSettings = new GithubSettings({
          configApp: settings.githubApp,
          configGates: settings.gates,
          store: new DatabaseGithubSettingsStore(knex),
          box,
          templateExists: async name =>
            Boolean(await managedSettings.source.template(name)),
        });
        await githubSettings.open(logger);
        // Approvers see how many commits a request brings where the GitHub App can count them.
        const commits = new CommitCounter(githubSettings, logger);
        const opener = new ImInstanceOpener({
          store,
          settings: managedSettings.source,
          transitions,
          logger,
          commits,
        });
        const counted = new CountedStages({
          store,
          opener,
          transitions,
          logger,
        });
        opener.counted = counted;
        transitions.counted = counted;
        const inbox = new DatabaseEventInbox(knex);
        const expiry = new ApprovalExpiry({
          store,
          inbox,
          transitions,
          logger,
        });
        const intake = new ImEventIntake({
          store,
          inbox,
          settings: managedSettings.source,
          transitions,
          logger,
        });
        lifecycle.addShutdownHook(() => intake.settled());
        const catalogPeople = new CatalogPeople(catalog, auth, logger);
        const service = new ApprovalService({
          store,
          settings: managedSettings.source,
          changes,
          transitions,
          opener,
          expiry,
          people: new ApprovalPeople(catalogPeople, logger),
          githubServerUrl: settings.githubServerUrl,
        });
        // People and pages hear of every change made here; other replicas tell of their own.
        const told = new ApprovalNotifications(notifications, logger);
        const pages = new ApprovalSignals(signals, logger);
        service.onCreated(approval => {
          told.requested(approval);
          pages.changed(approval);
        });
        // Group chats see each request's card once it is open, updated in place as it changes.
        const cards = new ApprovalCards({
          store,
          transitions,
          settings: managedSettings.source,
          logger,
          appBaseUrl: settings.appBaseUrl,
          commits,
        });
        const inBackground = (work: Promise<void>) =>
          work.catch(error =>
            logger.warn(`Group chat card: ${(error as Error).message}`),
          );
        opener.onAttempt(approval => {
          pages.changed(approval);
          void inBackground(cards.post(approval));
        });
        transitions.onProgress(approval => {
          pages.changed(approval);
          void inBackground(cards.update(approval));
        });
        transitions.onFinished(approval => {
          told.finished(approval);
          pages.changed(approval);
          void inBackground(cards.update(approval));
        });

        const oidc =
          settings.oidc &&
          new GithubOidcVerifier(settings.oidc, settings.githubServerUrl);
        if (!oidc)
          logger.info(
            'imApproval.github.oidc is not configured: only Backstage tokens may open approvals',
          );

        permissionsRegistry.addPermissions(imApprovalPermissions);
        // The decide permission may be conditional: its rules are applied to the approval, with the
        // owners of its repository's components read from the catalog.
        permissionsRegistry.addResourceType({
          resourceRef: approvalResourceRef,
          permissions: [imApprovalApprovalDecidePermission],
          rules: Object.values(approvalPermissionRules),
          getResources: ids =>
            Promise.all(
              ids.map(async id => {
                const approval = await store.get(id);
                return (
                  approval && {
                    approval,
                    repositoryOwners: await catalogPeople.ownersOfRepository(
                      approval.context.repository,
                    ),
                  }
                );
              }),
            ),
        });

        const connections = new ImConnections({
          clients,
          logger,
          load: () => managedSettings.integrations.current(),
          onEvents: integration => events =>
            intake.apply(integration, events, 'connection'),
          onCardClick: integration => click => cards.click(integration, click),
        });
        intake.onReceived(id => connections.received(id));
        // An integration changed here is followed at once; other replicas hear of it on their own
        // channel (LISTEN/NOTIFY; SQLite is one process), and a slow resync covers what gets lost.
        const integrationBus = isPostgres(knex)
          ? new PostgresChangeBus(knex, logger, INTEGRATIONS_CHANNEL)
          : new LocalChangeBus();
        await integrationBus.start({
          onChange: () => void connections.reconcile(),
          onGap: () => void connections.reconcile(),
        });
        managedSettings.integrations.onChanged(id => {
          void connections.reconcile();
          integrationBus
            .publish(id)
            .catch(error =>
              logger.warn(
                `Could not tell other replicas that integration ${id} changed; they follow at their next resync: ${error.message}`,
              ),
            );
        });
        lifecycle.addShutdownHook(async () => {
          await integrationBus.stop();
          await connections.stop();
        });
        await connections.reconcile();
        await scheduler.scheduleTask({
          id: 'im-approval-connections-resync',
          scope: 'local',
          frequency: { minutes: 1 },
          timeout: { minutes: 1 },
          initialDelay: { minutes: 1 },
          fn: () => connections.reconcile(),
        });

        await new Reconciler({
          store,
          clients,
          transitions,
          opener,
          logger,
        }).schedule(scheduler, settings.reconcilerSchedule, {
          batchSize: settings.reconcilerBatchSize,
          intervalSeconds: settings.reconcilerIntervalSeconds,
        });
        await expiry.schedule(scheduler, settings.expirySchedule);
        // Cards follow their approvals as they change; the pass catches up what a restart lost.
        await cards.schedule(scheduler, settings.remindersSchedule);
        await new ApprovalFollowUps({
          store,
          transitions,
          settings: managedSettings.source,
          logger,
          appBaseUrl: settings.appBaseUrl,
          onApproversAdded: approval => {
            pages.changed(approval);
            void inBackground(cards.update(approval));
          },
        }).schedule(scheduler, settings.remindersSchedule);
        await intake.schedule(scheduler);

        const gateStore = new DatabaseGateStore(knex);
        const gates = new DeploymentGates({
          github: githubSettings,
          store: gateStore,
          approvals: store,
          service,
          settings: managedSettings.source,
          opener,
          transitions,
          githubServerUrl: settings.githubServerUrl,
          appBaseUrl: settings.appBaseUrl,
          logger,
        });
        lifecycle.addShutdownHook(() => gates.settled());
        await gates.schedule(scheduler);
        const app = await githubSettings.appView();
        if (app)
          logger.info(
            `Deployment gates: GitHub App ${app.appId} at ${app.apiBaseUrl} (${app.source}), ${(await githubSettings.gates()).length} gate(s)`,
          );
        else if (settings.gates.length > 0)
          logger.warn(
            'imApproval.gates are configured but no GitHub App is (imApproval.github.app, or the Deployment gates tab): GitHub cannot ask',
          );

        httpRouter.use(
          createRouter({
            service,
            intake,
            cards,
            settings: managedSettings,
            probe: new IntegrationProbe(managedSettings.source, clients),
            connections,
            callers: new CallerResolver(httpAuth, permissions, oidc),
            github: {
              gates,
              settings: githubSettings,
              webhook: new GithubWebhook({
                settings: githubSettings,
                gates,
                store: gateStore,
                logger,
              }),
              webhookUrl: async () =>
                `${await discovery.getExternalBaseUrl('im-approval')}/github/webhook`,
            },
            auditor,
            logger,
            heartbeat: new LongPollHeartbeat(settings.longPollHeartbeatMs),
          }),
        );
        // Every route resolves its caller itself (CallerResolver: a GitHub OIDC token or Backstage
        // credentials; IM signatures for callbacks), so that a workflow's token is recognised, and
        // refused with a reason, on every route, not turned away as an unknown Backstage token.
        httpRouter.addAuthPolicy({ path: '/', allow: 'unauthenticated' });
      },
    });
  },
});
