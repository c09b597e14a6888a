import {
  startGithubOidcIssuer,
  type GithubOidcIssuer,
} from '@im-approval/im-sandbox';
import { GithubOidcVerifier } from './GithubOidcVerifier';

const claims = {
  repository: 'acme/api',
  repository_owner: 'acme',
  ref: 'refs/heads/main',
  sha: 'abc123',
  actor: 'octocat',
  workflow: 'deploy',
  environment: 'production',
  run_id: '42',
  run_attempt: '2',
};

describe('GithubOidcVerifier', () => {
  let issuer: GithubOidcIssuer;
  let verifier: GithubOidcVerifier;

  beforeAll(async () => {
    issuer = await startGithubOidcIssuer();
    verifier = new GithubOidcVerifier(
      {
        issuer: issuer.issuer,
        jwksUrl: `${issuer.issuer}/.well-known/jwks`,
        audience: 'im-approval',
        allowedOwners: ['ACME'],
      },
      'https://github.com',
    );
  });
  afterAll(() => issuer.close());

  it('turns a valid token into the verified run context', async () => {
    expect(await verifier.verify(await issuer.sign(claims))).toEqual({
      repository: 'acme/api',
      ref: 'refs/heads/main',
      sha: 'abc123',
      actor: 'octocat',
      workflow: 'deploy',
      environment: 'production',
      eventName: undefined,
      runId: '42',
      runAttempt: '2',
      serverUrl: 'https://github.com',
    });
  });

  it('answers a token it has verified from memory, but never once it has expired', async () => {
    const token = await issuer.sign(claims, { expiresIn: 60 });
    const context = await verifier.verify(token);
    expect(await verifier.verify(token)).toEqual(context);
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    try {
      await expect(verifier.verify(token)).rejects.toThrow(
        'GitHub OIDC token refused: it has expired',
      );
    } finally {
      clock.mockRestore();
    }
  });

  it('never remembers a refusal: a forged token is refused every time', async () => {
    const forged = await issuer.sign(claims, { forged: true });
    for (let i = 0; i < 2; i++)
      await expect(verifier.verify(forged)).rejects.toThrow(
        "its signature does not match the issuer's keys",
      );
  });

  it('recognises tokens of its issuer only', async () => {
    expect(verifier.claimsIssuer(await issuer.sign(claims))).toBe(true);
    expect(
      verifier.claimsIssuer(
        await issuer.sign(claims, { issuer: 'https://elsewhere' }),
      ),
    ).toBe(false);
    expect(verifier.claimsIssuer('im-approval-local-dev-token')).toBe(false);
  });

  it.each([
    ['forged', { forged: true }, /signature does not match/],
    ['expired', { expiresIn: -60 }, /expired/],
    ['just expired', { expiresIn: -2 }, /expired/],
    [
      'for another audience',
      { audience: 'someone-else' },
      /audience is not "im-approval"/,
    ],
    ['never-expiring', { omit: ['exp' as const] }, /no "exp" claim/],
    ['undated', { omit: ['iat' as const] }, /no "iat" claim/],
    ['future-dated', { issuedIn: 600 }, /"iat" claim is in the future/],
    ['not-yet-valid', { validIn: 600 }, /"nbf" claim is in the future/],
    [
      'too old',
      { issuedIn: -7200, expiresIn: 600 },
      /issued more than an hour ago/,
    ],
  ])('refuses a %s token with 401', async (_, options, message) => {
    const token = await issuer.sign(claims, options);
    await expect(verifier.verify(token)).rejects.toMatchObject({
      name: 'AuthenticationError',
      message,
    });
  });

  it('accepts a token dated a little ahead of its clock (skew)', async () => {
    const token = await issuer.sign(claims, { issuedIn: 30 });
    await expect(verifier.verify(token)).resolves.toMatchObject({
      repository: 'acme/api',
    });
  });

  it('refuses an owner that is not allowed with 403', async () => {
    const token = await issuer.sign({
      ...claims,
      repository: 'evil/api',
      repository_owner: 'evil',
    });
    await expect(verifier.verify(token)).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: /"evil" may not/,
    });
  });

  it('refuses a token without repository claims', async () => {
    const token = await issuer.sign({
      repository: '',
      repository_owner: 'acme',
    });
    await expect(verifier.verify(token)).rejects.toMatchObject({
      name: 'AuthenticationError',
    });
  });
});
