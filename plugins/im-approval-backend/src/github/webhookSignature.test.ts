import { createHmac } from 'node:crypto';
import { webhookSignatureProblem } from './webhookSignature';

const SECRET = 'It is a secret to everybody';
const BODY = Buffer.from('{"zen":"Speak like a human."}');
const sign = (secret: string, body: Buffer) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('webhookSignatureProblem', () => {
  it('accepts the signature GitHub makes, in either case of hex', () => {
    expect(
      webhookSignatureProblem(SECRET, BODY, sign(SECRET, BODY)),
    ).toBeUndefined();
    expect(
      webhookSignatureProblem(
        SECRET,
        BODY,
        sign(SECRET, BODY).toUpperCase().replace('SHA256', 'sha256'),
      ),
    ).toBeUndefined();
  });

  it("matches GitHub's documented example", () => {
    // docs.github.com, "Validating webhook deliveries": secret, payload and expected signature.
    expect(
      webhookSignatureProblem(
        "It's a Secret to Everybody",
        Buffer.from('Hello, World!'),
        'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
      ),
    ).toBeUndefined();
  });

  it('refuses a tampered body', () => {
    const tampered = Buffer.from(BODY.toString().replace('human', 'robot'));
    expect(
      webhookSignatureProblem(SECRET, tampered, sign(SECRET, BODY)),
    ).toMatch(/does not match/);
  });

  it('refuses a signature made with another secret', () => {
    expect(webhookSignatureProblem(SECRET, BODY, sign('guess', BODY))).toMatch(
      /does not match/,
    );
  });

  it('refuses a missing or malformed header, saying which', () => {
    expect(webhookSignatureProblem(SECRET, BODY, undefined)).toMatch(/missing/);
    expect(
      webhookSignatureProblem(
        SECRET,
        BODY,
        `sha1=${createHmac('sha1', SECRET).update(BODY).digest('hex')}`,
      ),
    ).toMatch(/64 hex digits/);
    expect(webhookSignatureProblem(SECRET, BODY, 'sha256=abc')).toMatch(
      /64 hex digits/,
    );
  });
});
