// The official SDK logs every failure it sees; in these tests the failures are the point.
export const quietLogger = {
  error() {},
  warn() {},
  info() {},
  debug() {},
  trace() {},
};
