import { gateSchema } from '@im-approval/plugin-im-approval-common';
import { matchGate } from './matchGate';

const gates = [
  {
    name: 'prod-acme',
    environments: ['production'],
    repositories: ['acme/*'],
    template: 'a',
  },
  { name: 'prod-any', environments: ['prod-*', 'production'], template: 'b' },
  {
    name: 'staging-api',
    environments: ['staging'],
    repositories: ['globex/api'],
    template: 'c',
  },
].map(gate => gateSchema.parse(gate));

describe('matchGate', () => {
  it('takes the first gate, in order, that covers both the environment and the repository', () => {
    expect(matchGate(gates, 'acme/api', 'production')?.name).toBe('prod-acme');
    expect(matchGate(gates, 'globex/web', 'production')?.name).toBe('prod-any');
  });

  it('matches environment and repository patterns without case', () => {
    expect(matchGate(gates, 'ACME/Api', 'Production')?.name).toBe('prod-acme');
    expect(matchGate(gates, 'globex/web', 'PROD-eu')?.name).toBe('prod-any');
  });

  it('covers every repository when a gate lists none, and none outside its list otherwise', () => {
    expect(matchGate(gates, 'anyone/anything', 'prod-us')?.name).toBe(
      'prod-any',
    );
    expect(matchGate(gates, 'globex/web', 'staging')).toBeUndefined();
    expect(matchGate(gates, 'globex/api', 'staging')?.name).toBe('staging-api');
  });

  it('leaves an environment no gate names alone', () => {
    expect(matchGate(gates, 'acme/api', 'preview')).toBeUndefined();
    expect(matchGate([], 'acme/api', 'production')).toBeUndefined();
  });
});
