import { EmptyState, Progress } from '@backstage/core-components';
import type { BasicPermission } from '@backstage/plugin-permission-common';
import { usePermission } from '@backstage/plugin-permission-react';
import { useState, type ReactNode } from 'react';
import { RequestFailed } from './RequestFailed';

/**
 * Renders its children only for users holding the permission; others see why the page is empty.
 * A permission check that failed (the backend down) says so, and is never shown as a denial.
 */
export function PermissionGate(props: {
  permission: BasicPermission;
  what: string;
  children: ReactNode;
}) {
  // A new key mounts the check again, which asks again after a failure.
  const [attempt, setAttempt] = useState(0);
  return (
    <PermissionCheck
      key={attempt}
      {...props}
      onRetry={() => setAttempt(n => n + 1)}
    />
  );
}

function PermissionCheck(props: {
  permission: BasicPermission;
  what: string;
  children: ReactNode;
  onRetry: () => void;
}) {
  const { loading, allowed, error } = usePermission({
    permission: props.permission,
  });
  if (loading) return <Progress />;
  if (error) {
    return (
      <RequestFailed
        error={error}
        what={`check your permission to ${props.what}`}
        onRetry={props.onRetry}
      />
    );
  }
  if (!allowed) {
    return (
      <EmptyState
        missing="info"
        title="You are not allowed to see this"
        description={`Your Backstage account lacks the ${props.permission.name} permission to ${props.what}. Ask a Backstage administrator for it.`}
      />
    );
  }
  return <>{props.children}</>;
}
