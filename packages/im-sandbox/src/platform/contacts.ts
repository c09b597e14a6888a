// Looking people up by mobile as DingTalk and WeCom do: spaces and dashes ignored, +86 optional.

const canonicalMobile = (mobile: string) => mobile.replace(/[\s-]/g, '').replace(/^\+86/, '');

export function findByMobile<User extends { mobile?: string }>(users: Iterable<User>, mobile: string): User | undefined {
  const wanted = canonicalMobile(mobile);
  return [...users].find(user => user.mobile !== undefined && canonicalMobile(user.mobile) === wanted);
}
