// The baseline for callbacks: plain node:http running the product's own Feishu callback check
// on each POST and answering what it says, with nothing else (no database, no IM read, no
// Backstage). $BARE_VERIFY names the production build's compiled feishuCallback module (it
// exports parseFeishuCallback); $BARE_CRYPTO the compiled @im-approval/plugin-im-approval-node, used
// (decrypt, signature) when that module is not there. $BARE_APP is the Feishu integration as JSON.
'use strict';
const http = require('node:http');
const { existsSync } = require('node:fs');

const integration = JSON.parse(process.env.BARE_APP);
let verify;
let kind;
if (process.env.BARE_VERIFY && existsSync(process.env.BARE_VERIFY)) {
  const { parseFeishuCallback } = require(process.env.BARE_VERIFY);
  verify = request =>
    parseFeishuCallback(request, integration, {
      now: new Date(),
      maxAgeSeconds: 300,
    }).reply;
  kind = 'parseFeishuCallback';
} else {
  const { feishuDecrypt, feishuSignature, safeEqual } = require(
    process.env.BARE_CRYPTO,
  );
  verify = request => {
    const h = request.headers;
    const sig = feishuSignature(
      h['x-lark-request-timestamp'],
      h['x-lark-request-nonce'],
      integration.encryptKey,
      request.rawBody,
    );
    if (!safeEqual(sig, h['x-lark-signature']))
      throw Object.assign(new Error('signature'), { status: 401 });
    JSON.parse(
      feishuDecrypt(
        integration.encryptKey,
        JSON.parse(request.rawBody.toString('utf8')).encrypt,
      ),
    );
    return { status: 200, body: '{}' };
  };
  kind = 'feishuDecrypt+feishuSignature';
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', chunk => chunks.push(chunk));
  req.on('end', () => {
    let status = 200;
    let body = '{}';
    try {
      const reply = verify({
        method: req.method,
        headers: req.headers,
        query: {},
        rawBody: Buffer.concat(chunks),
      });
      status = reply.status;
      body = reply.body;
    } catch (error) {
      status = error.status ?? 401;
      body = JSON.stringify({ error: { message: error.message } });
    }
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(
    `${JSON.stringify({ port: server.address().port, kind })}\n`,
  );
});
process.on('SIGTERM', () => process.exit(0));
