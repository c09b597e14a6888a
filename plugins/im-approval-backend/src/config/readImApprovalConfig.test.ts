import { ConfigReader } from '@backstage/config';
import { readImApprovalConfig } from './readImApprovalConfig';

const read = (imApproval: object) => readImApprovalConfig(new ConfigReader({ imApproval }));

describe('imApproval secrets keys', () => {
  const base64Key = Buffer.alloc(32, 1).toString('base64');
  const hexKey = Buffer.alloc(32, 2).toString('hex');

  it('reads one key as base64 or hex, under the id "default"', () => {
    expect(read({ secretsKey: base64Key }).secretsKeys).toEqual([{ id: 'default', key: Buffer.alloc(32, 1) }]);
    expect(read({ secretsKey: hexKey }).secretsKeys).toEqual([{ id: 'default', key: Buffer.alloc(32, 2) }]);
    expect(read({}).secretsKeys).toEqual([]);
  });

  it('reads a list for rotation, the first being current', () => {
    const keys = read({ secretsKeys: [{ id: 'new', key: hexKey }, { id: 'old', key: base64Key }] }).secretsKeys;
    expect(keys.map(k => k.id)).toEqual(['new', 'old']);
  });

  it.each([
    [{ secretsKey: 'too-short' }, 'imApproval.secretsKey: expected 32 random bytes as base64'],
    [{ secretsKey: base64Key, secretsKeys: [{ id: 'a', key: base64Key }] }, 'set imApproval.secretsKey or imApproval.secretsKeys, not both'],
    [{ secretsKeys: [{ id: 'a', key: base64Key }, { id: 'a', key: hexKey }] }, 'imApproval.secretsKeys: key ids must be unique'],
    [{ secretsKeys: [{ id: 'a b', key: base64Key }] }, 'imApproval.secretsKeys.0.id: expected letters, digits'],
  ])('refuses %j with a message naming the key', (config, message) => {
    expect(() => read(config)).toThrow(message);
  });
});
