/**
 * The test hook for power-cut tests: with `CLASSBOX_UPDATE_DIE_AT=<step>` the process kills
 * itself with SIGKILL right after that update step was persisted, as a power cut would.
 * Without the variable (production) it does nothing.
 */
export function updateCheckpoint(env: NodeJS.ProcessEnv): (step: string) => void {
  const dieAt = env.CLASSBOX_UPDATE_DIE_AT;
  if (!dieAt) return () => undefined;
  return (step) => {
    if (step === dieAt) process.kill(process.pid, 'SIGKILL');
  };
}
