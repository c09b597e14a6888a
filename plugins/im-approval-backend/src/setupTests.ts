// PostgreSQL-backed tests use the local server (no containers here); a PGURL-style override wins.
process.env.BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING ??=
  process.env.IM_APPROVAL_TEST_POSTGRES_URL ??
  'postgresql://postgres@127.0.0.1:5432';
process.env.BACKSTAGE_TEST_DISABLE_DOCKER = '1';
