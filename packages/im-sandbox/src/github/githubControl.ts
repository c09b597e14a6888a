import express, { Router, type Response } from 'express';
import { z } from 'zod';
import { escapeHtml } from '../inbox';
import { describeIssues } from '../validation';
import { heldJobRequestSchema, type GithubPlatform } from './githubPlatform';

// The sandbox's own controls for its GitHub: the App's credentials (to configure the backend with),
// its webhook URL, "run a workflow job that targets environment X", cancelling a run, and the
// webhook deliveries with "Redeliver". A page at /_sandbox/github does the same with buttons.

function refuse(res: Response, status: number, message: string) {
  res.status(status).json({ error: message });
}

function page(github: GithubPlatform): string {
  const runs = [...github.runs.values()].reverse();
  const rows = runs
    .map(run => {
      const job = run.jobs[0];
      const state =
        job.status === 'waiting'
          ? 'Waiting for the deployment protection rule'
          : `Completed: ${job.conclusion}`;
      const reports = job.statusReports
        .map(r => `<li>${escapeHtml(r.comment)}</li>`)
        .join('');
      const review = job.review
        ? `<p><b>${escapeHtml(job.review.state)}</b>: ${escapeHtml(job.review.comment)}</p>`
        : '';
      const cancel =
        run.status !== 'completed'
          ? `<form method="post" action="/_sandbox/github/runs/${run.id}/cancel?html=1"><button>Cancel run</button></form>`
          : '';
      return `<section class="run" data-run="${run.id}"><h3>${escapeHtml(run.repository)} · run ${run.id} · job “${escapeHtml(job.name)}” → ${escapeHtml(job.environment)}</h3>
<p class="state">${escapeHtml(state)}</p>${review}<ul>${reports}</ul>${cancel}</section>`;
    })
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>GitHub sandbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem 2rem}.run{border:1px solid #ddd;border-radius:.5rem;padding:.5rem 1rem;margin:.5rem 0}</style></head>
<body><h1>GitHub sandbox</h1>
<p>App ${github.appId} installed on <b>${escapeHtml(github.installationAccount)}</b>; webhook: ${escapeHtml(github.webhookUrl ?? '(not set)')}</p>
<form method="post" action="/_sandbox/github/jobs?html=1">
<label>Repository <input name="repository" value="${escapeHtml(github.installationAccount)}/api"></label>
<label>Environment <input name="environment" value="production"></label>
<button>Run a workflow job that targets this environment</button></form>
<h2>Runs</h2>${rows || '<p>No runs yet.</p>'}</body></html>`;
}

export function githubControlApi(github: GithubPlatform): Router {
  const router = Router();
  router.use(express.json(), express.urlencoded({ extended: false }));
  const back = (html: unknown, res: Response, json: () => void) =>
    html ? res.redirect(303, '/_sandbox/github') : json();

  router.get('/', (_req, res) => {
    res.type('html').send(page(github));
  });

  router.get('/app', (_req, res) => {
    res.json({
      appId: github.appId,
      clientId: github.clientId,
      installationId: github.installationId,
      installationAccount: github.installationAccount,
      privateKey: github.privateKeyPem,
      webhookSecret: github.webhookSecret,
      webhookUrl: github.webhookUrl ?? null,
      apiUrl: github.apiUrl,
    });
  });

  router.put('/app/webhook', (req, res) => {
    const body = z
      .object({ url: z.url({ protocol: /^https?$/ }) })
      .safeParse(req.body ?? {});
    if (!body.success) return refuse(res, 400, describeIssues(body.error));
    github.webhookUrl = body.data.url;
    return res.status(204).end();
  });

  router.post('/jobs', (req, res) => {
    const body = heldJobRequestSchema.safeParse(req.body ?? {});
    if (!body.success) return refuse(res, 400, describeIssues(body.error));
    const run = github.runJob(body.data);
    return back(req.query.html, res, () => res.status(201).json(run));
  });

  // A repository's history, oldest first, as the compare API reads it.
  router.put('/repos/:owner/:repo/commits', (req, res) => {
    const body = z
      .strictObject({
        shas: z.array(z.string().regex(/^[0-9a-f]{40}$/, 'a full SHA')).min(1),
      })
      .safeParse(req.body ?? {});
    if (!body.success) return refuse(res, 400, describeIssues(body.error));
    const { shas } = body.data;
    github.commits.set(`${req.params.owner}/${req.params.repo}`, shas);
    return res.json({
      repository: `${req.params.owner}/${req.params.repo}`,
      shas,
    });
  });

  router.get('/runs', (_req, res) => {
    res.json([...github.runs.values()]);
  });

  router.get('/runs/:id', (req, res) => {
    const run = github.runs.get(Number(req.params.id));
    if (!run) return refuse(res, 404, `no run ${req.params.id}`);
    return res.json(run);
  });

  router.post('/runs/:id/cancel', (req, res) => {
    const run = github.runs.get(Number(req.params.id));
    if (!run) return refuse(res, 404, `no run ${req.params.id}`);
    github.cancel(run);
    return back(req.query.html, res, () => res.json(run));
  });

  router.get('/reviews', (_req, res) => {
    res.json(github.reviewLog);
  });

  router.put('/faults', (req, res) => {
    const body = z
      .object({
        reviewFailures: z.number().int().min(0).optional(),
        commentRefusals: z.number().int().min(0).optional(),
      })
      .safeParse(req.body ?? {});
    if (!body.success) return refuse(res, 400, describeIssues(body.error));
    github.reviewFailures = body.data.reviewFailures ?? github.reviewFailures;
    github.commentRefusals =
      body.data.commentRefusals ?? github.commentRefusals;
    return res.status(204).end();
  });

  router.get('/deliveries', (_req, res) => {
    res.json(github.deliveries);
  });

  router.post('/deliveries/:guid/redeliver', (req, res) => {
    const delivery = github.deliveries.find(d => d.guid === req.params.guid);
    if (!delivery) return refuse(res, 404, `no delivery ${req.params.guid}`);
    github.redeliver(delivery);
    return res.status(202).json({ guid: delivery.guid });
  });

  return router;
}
