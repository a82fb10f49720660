import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { ShellContext } from './shell.js';

/**
 * Load what a view shows; a 401 signs the admin out (the credential was revoked or expired).
 * `reload` loads again without clearing what is shown meanwhile.
 */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
): { data: T | undefined; error: unknown; reload: () => Promise<void> } {
  const shell = useContext(ShellContext);
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  // Reloaded when `deps` change, like useEffect's own list.
  const reload = useCallback(async () => {
    try {
      setData(await load());
      setError(undefined);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) shell.signedOut(e);
      else setError(e);
    }
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, reload };
}
