import { instanceRef } from './instanceRef';

describe('instanceRef', () => {
  it("puts the escaped instance id into the integration's link, and gives no link without one", () => {
    expect(
      instanceRef(
        {
          instanceUrl:
            'https://im.example/approvals/{instanceId}?from=backstage',
        },
        'A/B 1',
      ),
    ).toEqual({
      instanceId: 'A/B 1',
      url: 'https://im.example/approvals/A%2FB%201?from=backstage',
    });
    expect(instanceRef({}, 'PI-1')).toEqual({
      instanceId: 'PI-1',
      url: undefined,
    });
  });
});
