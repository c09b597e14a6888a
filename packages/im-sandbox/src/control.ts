import express, { type ErrorRequestHandler, type Router } from 'express';
import { z } from 'zod';
import { deliveryControlSchema } from './delivery/log';
import type { LongConnections } from './delivery/longConnections';
import { DecisionError } from './flow/approvalFlow';
import type { Faults } from './platform/faults';
import { parseOrRefuse } from './validation';

// What every IM's control API (/_sandbox/<im>) shares: input validation that names the field,
// the decision body, fault injection, and the error answers.

/** A refusal of the control API: the status and a message naming what is wrong. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function input<T>(schema: z.ZodType<T>, value: unknown): T {
  return parseOrRefuse(schema, value, issues => new ControlError(400, issues));
}

/** approve/reject bodies, beside who decides (openId on Feishu, userId elsewhere): the comment and how the events travel. */
export const decisionFields = {
  comment: z.string().optional(),
  delivery: deliveryControlSchema.optional(),
};

/** POST /faults: the next `times` calls of `route` answer `code` (non-zero) and `msg`. */
const faultSchema = <R extends readonly [string, ...string[]]>(
  routes: R,
  defaultHttpStatus: number,
) =>
  z.strictObject({
    route: z.enum(routes),
    code: z
      .number()
      .int()
      .refine(code => code !== 0, 'must be non-zero: 0 means success'),
    msg: z.string().min(1).optional(),
    httpStatus: z.number().int().min(200).max(599).default(defaultHttpStatus),
    times: z.number().int().min(1).default(1),
  });

/** POST /answer-faults: the next `times` calls of `route` take effect, then lose or delay their answer. */
const answerFaultSchema = <R extends readonly [string, ...string[]]>(
  routes: R,
) =>
  z
    .strictObject({
      route: z.enum(routes),
      lose: z.enum(['reset', 'http500']).optional(),
      delayMs: z.number().int().min(1).max(120_000).optional(),
      times: z.number().int().min(1).default(1),
    })
    .refine(fault => fault.lose !== undefined || fault.delayMs !== undefined, {
      message: 'give lose or delayMs',
    });

/** Drop long connections: one app's (or all), refusing reconnection for `downForMs`. */
export const connectionDropSchema = z.strictObject({
  appId: z.string().min(1).optional(),
  downForMs: z.number().int().min(0).max(600_000).default(0),
});

export interface OperationsControl<Route extends string> {
  routes: readonly [Route, ...Route[]];
  faults: Faults<Route>;
  /** The HTTP status an injected fault answers with unless told (the IM's own for errors). */
  defaultHttpStatus: number;
  /** Messages the IM itself uses for codes a test is likely to inject. */
  knownMessages?: Record<number, string>;
  expireTokens(): void;
  stats(): object;
  deliveries(): object[];
  /** The IM's long connections and where their routes live: "connections" (Feishu), "stream" (DingTalk); WeCom has none. */
  longConnections?: { connections: LongConnections; path: string };
}

/** The routes every IM's control API has for tokens, faults, deliveries, stats and (where it has them) long connections. */
export function operationsRoutes<Route extends string>(
  router: Router,
  control: OperationsControl<Route>,
): void {
  const faultBody = faultSchema(control.routes, control.defaultHttpStatus);
  router.post('/tokens/expire', (_req, res) => {
    control.expireTokens();
    res.status(204).end();
  });
  router.post('/faults', (req, res) => {
    const { route, code, msg, httpStatus, times } = input(faultBody, req.body);
    const message =
      msg ??
      control.knownMessages?.[code] ??
      'fault injected by the IM sandbox';
    control.faults.add(route as Route, {
      code,
      msg: message,
      httpStatus,
      remaining: times,
    });
    res.status(201).json({ route, code, msg: message, httpStatus, times });
  });
  const answerFaultBody = answerFaultSchema(control.routes);
  router.post('/answer-faults', (req, res) => {
    const { route, times, ...fault } = input(answerFaultBody, req.body);
    control.faults.answers.add(route as Route, { ...fault, remaining: times });
    res.json({ route, times, ...fault });
  });
  router.get('/deliveries', (_req, res) => {
    res.json(control.deliveries());
  });
  router.get('/stats', (_req, res) => {
    res.json({ ...control.stats(), calls: control.faults.calls });
  });
  const { longConnections } = control;
  if (!longConnections) return;
  router.get(`/${longConnections.path}`, (_req, res) => {
    res.json(longConnections.connections.views());
  });
  router.post(`/${longConnections.path}/drop`, (req, res) => {
    const { appId, downForMs } = input(connectionDropSchema, req.body);
    res.json({ closed: longConnections.connections.drop(appId, downForMs) });
  });
}

/** A control router: JSON bodies in; after its routes, 404 for unknown ones and the error answers. */
export function controlRouter(define: (router: Router) => void): Router {
  const router = express.Router();
  router.use(express.json());
  define(router);
  router.use((req, res) => {
    res
      .status(404)
      .json({ error: `no control route ${req.method} ${req.originalUrl}` });
  });
  const errors: ErrorRequestHandler = (error, _req, res, next) => {
    if (error instanceof ControlError || error instanceof DecisionError) {
      res.status(error.status).json({ error: error.message });
    } else if (error?.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'body: not valid JSON' });
    } else {
      next(error);
    }
  };
  router.use(errors);
  return router;
}
