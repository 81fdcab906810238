/** True when no process with this pid exists any more. */
export function processIsGone(pid: number | undefined): boolean {
  if (pid === undefined || pid <= 0) throw new Error(`not a pid: ${pid}`);
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
