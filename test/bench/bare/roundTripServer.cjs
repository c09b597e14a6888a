// The baseline server: plain node:http answering the benchmark's requests in the shape the
// backend does, with no work behind them. GET …/wait parks the request; a POST answers the
// parked waiter named by ?id= (every parked waiter without it), then itself; anything else is
// answered at once. Prints {"port": …} on its first line of output.
'use strict';
const http = require('node:http');

// About the size of an approval as the backend answers it.
const APPROVAL = JSON.stringify({
  id: '00000000-0000-4000-8000-000000000000',
  status: 'approved',
  template: 'deploy',
  title: 'Deploy api from acme/api',
  provider: 'feishu',
  integration: 'feishu-sandbox',
  imInstanceId: 'I'.repeat(36),
  imUrl: `http://127.0.0.1/feishu/instances/${'I'.repeat(36)}`,
  decidedBy: 'Alice Chen',
  decidedById: 'ou_alice',
  comment: '',
  context: {
    repository: 'acme/api',
    ref: 'refs/heads/main',
    sha: '0123abcd',
    actor: 'octocat',
    workflow: 'deploy',
    runId: '1001',
    verified: true,
  },
  createdAt: new Date().toISOString(),
  decidedAt: new Date().toISOString(),
  expiresAt: new Date().toISOString(),
  padding: 'x'.repeat(400),
});

const parked = new Map(); // id -> Set<res>

function answer(res, status, body) {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const wait = /\/approvals\/([^/]+)\/wait$/.exec(url.pathname);
  if (req.method === 'GET' && wait) {
    const id = wait[1];
    let set = parked.get(id);
    if (!set) parked.set(id, (set = new Set()));
    set.add(res);
    res.on('close', () => {
      set.delete(res);
      if (set.size === 0 && parked.get(id) === set) parked.delete(id);
    });
    return;
  }
  const chunks = [];
  req.on('data', chunk => chunks.push(chunk));
  req.on('end', () => {
    if (req.method === 'POST') {
      const id = url.searchParams.get('id');
      const ids = id === null ? [...parked.keys()] : [id];
      for (const key of ids) {
        for (const waiter of parked.get(key) ?? [])
          answer(waiter, 200, APPROVAL);
        parked.delete(key);
      }
      answer(
        res,
        req.url.includes('/approvals') ? 201 : 200,
        req.url.includes('/approvals') ? APPROVAL : '{}',
      );
      return;
    }
    answer(res, 200, APPROVAL);
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 61_000;
server.requestTimeout = 0;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
