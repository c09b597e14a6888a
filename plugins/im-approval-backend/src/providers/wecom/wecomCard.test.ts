import fc from 'fast-check';
import { WECOM_CARD_NOTE, wecomOutcomeText, wecomTextcard } from './wecomCard';

const card = {
  approvalId: 'a1',
  title: 'Deploy <b>api</b>',
  test: false,
  context: [
    { kind: 'repository' as const, label: 'Repository', value: 'acme/api' },
  ],
  fields: [{ label: 'Reason', value: 'x'.repeat(600) }],
  state: 'pending' as const,
  waitingOn: ['Alice Chen', 'Bob Li'],
};

describe('WeCom group chat textcards', () => {
  it('lead with who it waits on, escape people’s text, keep to 512 bytes and always say the request is decided in WeCom', () => {
    const textcard = wecomTextcard(card, 'https://im.example/1');
    expect(textcard).toMatchObject({
      title: 'Deploy <b>api</b>',
      url: 'https://im.example/1',
      btntxt: 'Open',
    });
    expect(textcard.description).toBe(
      '<div class="normal">Waiting on: Alice Chen, Bob Li</div>' +
        '<div class="gray">Repository: acme/api</div>' +
        `<div class="highlight">${WECOM_CARD_NOTE}</div>`,
    );
    expect(
      wecomTextcard({ ...card, title: '标题'.repeat(40) }, 'u').title,
    ).toMatch(/…$/);
    expect(
      Buffer.byteLength(
        wecomTextcard({ ...card, title: '标题'.repeat(40) }, 'u').title,
      ),
    ).toBeLessThanOrEqual(128);
  });

  it('tell how a request ended, escaped, with its comment', () => {
    expect(
      wecomOutcomeText({
        ...card,
        state: 'rejected',
        outcome: 'Rejected by Bob Li at 2026-12-04 10:02 UTC',
        comment: 'not <today>',
      }),
    ).toBe(
      'Deploy &lt;b&gt;api&lt;/b&gt;: Rejected by Bob Li at 2026-12-04 10:02 UTC\nComment: not &lt;today&gt;',
    );
  });

  it('keep any text within WeCom’s limits, escaped, with the note always there', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.array(
          fc.record({
            label: fc.string({ maxLength: 40 }),
            value: fc.string({ unit: 'grapheme', maxLength: 200 }),
          }),
          { maxLength: 8 },
        ),
        (title, fields) => {
          const textcard = wecomTextcard({ ...card, title, fields }, 'u');
          expect(Buffer.byteLength(textcard.title)).toBeLessThanOrEqual(128);
          expect(Buffer.byteLength(textcard.description)).toBeLessThanOrEqual(
            512,
          );
          expect(textcard.description).toContain(WECOM_CARD_NOTE);
          // Every tag is one of the card's own lines: people's text cannot add markup.
          expect(
            textcard.description.replace(
              /<div class="(gray|normal|highlight)">|<\/div>/g,
              '',
            ),
          ).not.toMatch(/[<>]/);
        },
      ),
    );
  });
});
