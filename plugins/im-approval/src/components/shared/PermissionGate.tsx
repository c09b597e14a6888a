import { EmptyState, Progress } from '@backstage/core-components';
import type { BasicPermission } from '@backstage/plugin-permission-common';
import { usePermission } from '@backstage/plugin-permission-react';
import type { ReactNode } from 'react';

/** Renders its children only for users holding the permission; others see why the page is empty. */
export function PermissionGate(props: {
  permission: BasicPermission;
  what: string;
  children: ReactNode;
}) {
  const { loading, allowed } = usePermission({ permission: props.permission });
  if (loading) return <Progress />;
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
