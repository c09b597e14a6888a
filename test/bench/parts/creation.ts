// 5. Creation: approvals opened through the API (each job with its own GitHub OIDC token, as
// the Action makes them), `concurrency` requests in flight, on SQLite and PostgreSQL (one
// replica). Each opens a Feishu instance in the sandbox. The baseline is a bare commit of one
// row: better-sqlite3 on a file in WAL with synchronous=NORMAL (as the store sets it), and pg with
// a pool of 10 at the same concurrency.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { POSTGRES_URL } from '../../src/__testUtils__/stack';
import { createApproval, oidcToken } from '../api';
import { startBenchStack } from '../benchStack';
import { agent, pool } from '../client';
import type { Deployment } from '../production';
import { figure, note, section } from '../report';
import { describe, quantiles } from '../stats';

export interface CreationOptions {
  creations: number;
  concurrency: number;
}

// The driver the backend's SQLite store uses (a dependency of packages/backend; it ships no types).
interface SqliteDatabase {
  exec(sql: string): void;
  prepare(sql: string): { run(...values: unknown[]): unknown };
  close(): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Database: new (
  file: string,
) => SqliteDatabase = require('better-sqlite3');

const ROW = JSON.stringify({
  title: 'Deploy api from acme/api',
  padding: 'x'.repeat(600),
});

function bareSqlite(m: number) {
  const dir = mkdtempSync(join(tmpdir(), 'im-approval-bench-sqlite-'));
  const db = new Database(join(dir, 'bare.sqlite'));
  try {
    // The store's own settings (src/database: WAL, synchronous=NORMAL).
    db.exec('pragma journal_mode = WAL');
    db.exec('pragma synchronous = NORMAL');
    db.exec('create table t (id integer primary key, body text not null)');
    const insert = db.prepare('insert into t (body) values (?)');
    const latencies: number[] = [];
    const started = performance.now();
    for (let i = 0; i < m; i++) {
      const t0 = performance.now();
      insert.run(ROW);
      latencies.push(performance.now() - t0);
    }
    return {
      perSecond: m / ((performance.now() - started) / 1000),
      q: quantiles(latencies),
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function barePostgres(m: number, concurrency: number) {
  const name = `bench_bare_${process.pid}`;
  const admin = new Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`drop database if exists ${name}`);
  await admin.query(`create database ${name}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  const connections = new Pool({ connectionString: url.toString(), max: 10 });
  connections.on('error', () => undefined);
  try {
    await connections.query(
      'create table t (id serial primary key, body text not null)',
    );
    const latencies: number[] = [];
    const started = performance.now();
    await pool(m, concurrency, async () => {
      const t0 = performance.now();
      await connections.query('insert into t (body) values ($1)', [ROW]);
      latencies.push(performance.now() - t0);
    });
    return {
      perSecond: m / ((performance.now() - started) / 1000),
      q: quantiles(latencies),
    };
  } finally {
    await connections.end();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

export async function creation(
  deployment: Deployment,
  options: CreationOptions,
) {
  const { creations: m, concurrency } = options;
  section(
    'creation',
    `${m} approvals opened, ${concurrency} requests in flight, OIDC tokens`,
  );
  for (const setup of [
    { database: 'sqlite' as const, budget: undefined },
    { database: 'postgres' as const, budget: 300 },
  ]) {
    const stack = await startBenchStack(deployment, {
      database: setup.database,
    });
    try {
      const backend = stack.backends[0];
      const tokens = await Promise.all(
        Array.from({ length: m + 50 }, (_, i) =>
          oidcToken(stack.issuer, 40_000 + i),
        ),
      );
      const connections = agent(concurrency);
      await pool(50, concurrency, i =>
        createApproval(connections, backend, tokens[m + i]),
      );
      const latencies: number[] = [];
      const cpuBefore = backend.cpuSeconds();
      const sandboxBefore = stack.sandbox.cpuSeconds();
      const started = performance.now();
      await pool(m, concurrency, async i => {
        const { answer, started: t0 } = await createApproval(
          connections,
          backend,
          tokens[i],
        );
        latencies.push(answer.at - t0);
      });
      const seconds = (performance.now() - started) / 1000;
      const cpuMs = ((backend.cpuSeconds() - cpuBefore) * 1000) / m;
      const sandboxMs =
        ((stack.sandbox.cpuSeconds() - sandboxBefore) * 1000) / m;
      connections.destroy();
      const refused = await stack.imRefusals();
      if (refused > 0)
        note(
          `${setup.database}: the IM sandbox refused ${refused} calls for their frequency`,
        );
      const bare =
        setup.database === 'sqlite'
          ? bareSqlite(m)
          : await barePostgres(m, concurrency);
      figure(
        `${setup.database}: approvals created per second`,
        `${(m / seconds).toFixed(0)}/s`,
        {
          measured: setup.budget === undefined ? undefined : m / seconds,
          budget:
            setup.budget === undefined
              ? undefined
              : { op: '>=', limit: setup.budget, text: `≥ ${setup.budget}/s` },
          baseline: `bare one-row commit: ${bare.perSecond.toFixed(0)}/s, ${describe(bare.q)}`,
        },
      );
      figure(
        `${setup.database}: create request latency`,
        describe(quantiles(latencies)),
      );
      figure(
        `${setup.database}: CPU per approval`,
        `backend ${cpuMs.toFixed(2)} ms (at most ${(1000 / cpuMs).toFixed(0)} per CPU-second), IM sandbox ${sandboxMs.toFixed(2)} ms`,
      );
    } finally {
      await stack.stop();
    }
  }
}
