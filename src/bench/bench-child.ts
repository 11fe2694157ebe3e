/**
 * The child side of a `kafka-mirror bench` helper process (the load and the reader run in their
 * own processes, so the bench process's CPU and memory are the copy's alone). The work arrives as
 * the first IPC message, not in argv, where another user could read a config's environment. The
 * child exits when the bench process goes away (the IPC channel closes), so a killed bench leaves
 * no helper behind, and it ignores SIGINT, which the bench process handles for the whole run.
 */
export function childOf<Work, ToParent, ToChild = never>(
  run: (
    work: Work,
    post: (m: ToParent) => void,
    onMessage: (listener: (m: ToChild) => void) => void
  ) => Promise<ToParent>
): void {
  const post = (m: ToParent): void => {
    process.send?.(m)
  }
  const listeners: Array<(m: ToChild) => void> = []
  let started = false
  process.on('disconnect', () => {
    process.exit(1)
  })
  // Ctrl-C on a terminal reaches the whole process group: the bench process decides what stops.
  process.on('SIGINT', () => {})
  process.on('message', (m: { work: Work } | { toChild: ToChild }) => {
    if ('toChild' in m) {
      for (const l of listeners) l(m.toChild)
      return
    }
    if (started) return
    started = true
    run(m.work, post, l => {
      listeners.push(l)
    }).then(
      done => {
        process.send?.(done, () => {
          process.exit(0)
        })
      },
      (err: unknown) => {
        process.send?.({ kind: 'failed', message: (err as Error).message }, () => {
          process.exit(1)
        })
      }
    )
  })
}
