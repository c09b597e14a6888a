import { placeholdersOf } from './templates';

describe('placeholdersOf', () => {
  it('lists each ${…} name of the title and fields once, spaces inside the braces or not', () => {
    const template = {
      title: 'Deploy ${vars.service} from ${ repository }',
      fields: { Service: '${vars.service}', Run: 'see ${runUrl} ($HOME is not one, nor ${ })', Note: 'plain text' },
    };
    expect(placeholdersOf(template)).toEqual(['vars.service', 'repository', 'runUrl']);
  });
});
