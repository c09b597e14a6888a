import { createContext, useContext, type ReactNode } from 'react';
import { useResolvedPath } from 'react-router-dom';

const BasePathContext = createContext<string>('');

/** Remembers where the plugin is mounted, so every page links within it the same way. */
export function BasePathProvider(props: { children: ReactNode }) {
  const { pathname } = useResolvedPath('.');
  return (
    <BasePathContext.Provider value={pathname.replace(/\/+$/, '')}>
      {props.children}
    </BasePathContext.Provider>
  );
}

/** A link to a path inside the plugin, e.g. `approvals/<id>`. */
export function usePluginLink(): (path: string) => string {
  const base = useContext(BasePathContext);
  return path => `${base}/${path.replace(/^\/+/, '')}`;
}
