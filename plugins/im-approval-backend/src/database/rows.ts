/** How timestamps come back: SQLite hands out epoch milliseconds, PostgreSQL a Date. */
export type Timestamp = Date | string | number;

export function iso(value: Timestamp): string {
  return new Date(value).toISOString();
}
