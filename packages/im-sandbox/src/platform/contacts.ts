// Looking people up as the open platforms do: mobiles with spaces and dashes ignored and +86
// optional, emails without regard to case or surrounding spaces.

const canonicalMobile = (mobile: string) =>
  mobile.replace(/[\s-]/g, '').replace(/^\+86/, '');
const canonicalEmail = (email: string) => email.trim().toLowerCase();

export function findByMobile<User extends { mobile?: string }>(
  users: Iterable<User>,
  mobile: string,
): User | undefined {
  const wanted = canonicalMobile(mobile);
  return [...users].find(
    user =>
      user.mobile !== undefined && canonicalMobile(user.mobile) === wanted,
  );
}

export function findByEmail<User extends { email?: string }>(
  users: Iterable<User>,
  email: string,
): User | undefined {
  const wanted = canonicalEmail(email);
  return [...users].find(
    user => user.email !== undefined && canonicalEmail(user.email) === wanted,
  );
}
