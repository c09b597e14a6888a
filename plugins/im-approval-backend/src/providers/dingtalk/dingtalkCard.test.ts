import fc from 'fast-check';
import {
  dingtalkCardAnswer,
  dingtalkCardData,
  parseDingtalkCardClick,
} from './dingtalkCard';

const callback = (overrides: object = {}, content: object = {}) =>
  JSON.stringify({
    outTrackId: 'im-approval-a1',
    corpId: 'ding1',
    userId: 'alice',
    spaceType: 'IM_GROUP',
    spaceId: 'cidRoom==',
    type: 'actionCallback',
    content: JSON.stringify({
      cardPrivateData: {
        actionIds: ['reject'],
        params: { action: 'reject', comment: '  not today ' },
      },
      ...content,
    }),
    ...overrides,
  });

describe('DingTalk card callbacks', () => {
  it('reads a click on one of the backend’s cards: the approval, the decision, who, where and the comment', () => {
    expect(parseDingtalkCardClick(callback(), 'm1')).toEqual({
      eventId: 'm1',
      approvalId: 'a1',
      action: 'reject',
      userId: 'alice',
      chatId: 'cidRoom==',
      comment: 'not today',
    });
  });

  it.each([
    ['another app’s card', callback({ outTrackId: 'their-card' })],
    [
      'a button that is not Approve or Reject',
      callback({}, { cardPrivateData: { actionIds: ['open'] } }),
    ],
    ['content that is not JSON', callback({ content: '{' })],
    ['data that is not JSON', 'not json'],
    ['no user', callback({ userId: '' })],
  ])('reads nothing from %s', (_, data) => {
    expect(parseDingtalkCardClick(data, 'm1')).toBeUndefined();
  });

  it('answers the card for everyone by its whole data and the toast on the clicker’s card alone', () => {
    const card = {
      approvalId: 'a1',
      title: 'Deploy',
      test: false,
      context: [],
      fields: [],
      state: 'approved' as const,
      waitingOn: ['Alice Chen'],
      outcome: 'Approved by Alice Chen at 2026-12-04 10:02 UTC',
    };
    expect(
      dingtalkCardAnswer({ toast: { kind: 'success', text: 'Done.' }, card }),
    ).toEqual({
      cardUpdateOptions: {
        updateCardDataByKey: false,
        updatePrivateDataByKey: true,
      },
      cardData: { cardParamMap: dingtalkCardData(card) },
      userPrivateData: { cardParamMap: { notice: 'Done.' } },
    });
    // An ended card waits on nobody and offers no buttons.
    expect(dingtalkCardData(card)).toMatchObject({
      waitingOn: '',
      decidable: 'false',
      status: 'Approved',
    });
    expect(dingtalkCardAnswer()).toEqual({});
  });

  it('reads any data a Stream frame may carry without throwing, and a click only from one of our cards', () => {
    const json = fc.jsonValue();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          json.map(value => JSON.stringify(value)),
          fc
            .record({
              outTrackId: fc.oneof(fc.string(), fc.constant('im-approval-a1')),
              userId: fc.oneof(fc.string(), json),
              spaceType: fc.oneof(fc.constant('IM_GROUP'), json),
              spaceId: fc.oneof(fc.string(), json),
              content: fc.oneof(
                fc.string(),
                json.map(value => JSON.stringify({ cardPrivateData: value })),
              ),
            })
            .map(value => JSON.stringify(value)),
        ),
        data => {
          const click = parseDingtalkCardClick(data, 'm1');
          if (click === undefined) return;
          expect(JSON.parse(data).outTrackId).toBe(
            `im-approval-${click.approvalId}`,
          );
          expect(['approve', 'reject']).toContain(click.action);
          expect(click.userId).not.toBe('');
        },
      ),
    );
  });
});
