import { ImApiError } from '@im-approval/plugin-im-approval-node';
import { PersonNames } from './PersonNames';

describe('PersonNames', () => {
  it('gives the display name beside the id, reading each person once', async () => {
    const read = jest.fn(
      async (id: string) => ` ${id === 'ou_alice' ? 'Alice Chen' : 'Bob Li'} `,
    );
    const names = new PersonNames(read);
    expect(await names.person('ou_alice')).toEqual({
      id: 'ou_alice',
      name: 'Alice Chen',
    });
    expect(await names.person('ou_alice')).toEqual({
      id: 'ou_alice',
      name: 'Alice Chen',
    });
    expect(await names.person('ou_bob')).toEqual({
      id: 'ou_bob',
      name: 'Bob Li',
    });
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('lets the id stand for a name the IM will not tell, and remembers that', async () => {
    const read = jest.fn(async () => undefined);
    const names = new PersonNames(read);
    expect(await names.person('u1')).toEqual({ id: 'u1', name: 'u1' });
    const refused = jest.fn(async () => {
      throw new ImApiError('permission', 'no permission to read contacts');
    });
    const outsideScope = new PersonNames(refused);
    expect(await outsideScope.person('u2')).toEqual({ id: 'u2', name: 'u2' });
    expect(await outsideScope.person('u2')).toEqual({ id: 'u2', name: 'u2' });
    expect(refused).toHaveBeenCalledTimes(1);
  });

  it('asks again after a transient failure: the IM being busy is no reason to forget a name', async () => {
    const read = jest
      .fn<Promise<string | undefined>, [string]>()
      .mockRejectedValueOnce(new ImApiError('unavailable', 'HTTP 503'))
      .mockResolvedValue('Alice Chen');
    const names = new PersonNames(read);
    expect(await names.person('ou_alice')).toEqual({
      id: 'ou_alice',
      name: 'ou_alice',
    });
    expect(await names.person('ou_alice')).toEqual({
      id: 'ou_alice',
      name: 'Alice Chen',
    });
    expect(read).toHaveBeenCalledTimes(2);
  });
});
