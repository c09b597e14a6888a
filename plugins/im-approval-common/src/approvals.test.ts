import { describeDecider } from './approvals';

describe('describeDecider', () => {
  it.each([
    [
      { decidedBy: 'Alice Chen', decidedById: 'ou_alice' },
      'Alice Chen (ou_alice)',
    ],
    // The IM would not tell the name: the id stands for it, once.
    [{ decidedBy: 'ou_alice', decidedById: 'ou_alice' }, 'ou_alice'],
    // Decided before ids were kept.
    [
      { decidedBy: 'alice@example.com', decidedById: null },
      'alice@example.com',
    ],
    [{ decidedBy: null, decidedById: null }, undefined],
  ])('describes %j as %j', (approval, expected) => {
    expect(describeDecider(approval)).toBe(expected);
  });
});
