import type { RootHttpRouterConfigureContext } from '@backstage/backend-defaults/rootHttpRouter';

/** How long a request waits for the backend to start before it is answered 503. */
const HOLD_MS = 10_000;

/**
 * Backstage listens as soon as the first plugin asks for its HTTP router, but mounts each plugin's
 * router only once that plugin's earlier dependencies are ready (its database first: hundreds of ms
 * on PostgreSQL). Until then a request for `/api/im-approval/…` falls through to the root router's
 * empty 404, which a client cannot tell from "no such approval".
 *
 * This holds every `/api/…` request until the backend has started (every plugin mounted, the root
 * lifecycle's startup hooks run), as Backstage itself holds requests to a mounted plugin that has
 * not started, and answers Backstage's 503 if that takes longer than `HOLD_MS`.
 */
export function holdApiUntilStarted({
  app,
  lifecycle,
}: Pick<RootHttpRouterConfigureContext, 'app' | 'lifecycle'>): void {
  let started = false;
  const held = new Set<() => void>();
  lifecycle.addStartupHook(() => {
    started = true;
    for (const release of held) release();
    held.clear();
  });
  app.use('/api', (_req, _res, next) => {
    if (started) {
      next();
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined = undefined;
    const release = () => {
      clearTimeout(timer);
      next();
    };
    timer = setTimeout(() => {
      held.delete(release);
      // Named so that Backstage's error middleware answers 503 with its usual error body.
      next(
        Object.assign(new Error('The backend is starting; try again shortly'), {
          name: 'ServiceUnavailableError',
        }),
      );
    }, HOLD_MS);
    held.add(release);
  });
}
