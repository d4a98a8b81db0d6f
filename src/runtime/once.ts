/** `fn` for the first call only: exit handlers can fire from several ways out at once. */
export function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
