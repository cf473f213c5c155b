import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api.js';

/** A caller's recent items as the dashboard shows them. */
export type RecentList<T> = { status: 'loading' } | { status: 'failed' } | { status: 'list'; items: T[] };

/**
 * A caller's recent items read from the server (past scrubs, past imports), read again when
 * `refresh` changes or `reload` is called. Only the latest read is shown – not an earlier one that
 * answered late, for another caller –; a list on screen stays when reading it again fails (it is
 * read again soon, or on Refresh); a 401 ends the session. `read` must not change between renders.
 */
export function useRecentList<T>(read: (entityId: string) => Promise<T[]>, entityId: string, enabled: boolean, refresh: number, onSessionEnded: () => void): [RecentList<T>, () => void] {
  const [state, setState] = useState<RecentList<T>>({ status: 'loading' });
  const reads = useRef(0);
  const reload = useCallback(() => {
    if (!enabled || !entityId) return;
    const current = ++reads.current;
    read(entityId).then(
      (items) => current === reads.current && setState({ status: 'list', items }),
      (err: unknown) => {
        if (current !== reads.current) return;
        if (err instanceof ApiError && err.status === 401) return onSessionEnded();
        setState((was) => (was.status === 'list' ? was : { status: 'failed' }));
      },
    );
  }, [read, entityId, enabled, onSessionEnded]);
  useEffect(() => {
    setState({ status: 'loading' });
    reload();
  }, [reload, refresh]);
  useEffect(
    () => () => {
      reads.current++; // gone: no answer is shown
    },
    [],
  );
  return [state, reload];
}
