import { createContext, type ComponentChildren } from 'preact';
import type { ApiError } from './api.js';

/** What the routes share: the panel above the page (a snapshot being awaited) and a sign-out on 401. */
export interface Shell {
  showPanel(content: ComponentChildren | null): void;
  /** A view that got a 401 hands it here: the credential was revoked or expired. */
  signedOut(error: ApiError): void;
}
export const ShellContext = createContext<Shell>({ showPanel: () => undefined, signedOut: () => undefined });
