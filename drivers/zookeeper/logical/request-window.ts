/**
 * At most `size` requests in flight on one client, submitted in order. The native client has no
 * multi/transaction, so this is how the logical backup and restore batch: ZooKeeper answers a
 * session's requests in the order they were sent (FIFO client order), so a child's create may be
 * sent before its parent's create has been answered, as long as it is sent after it.
 */
export class RequestWindow {
  private active = 0;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;

  /** @param size requests in flight at most; 1 = each request awaited before the next is sent */
  constructor(private readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a request window holds at least 1 request, not ${size}`);
  }

  /**
   * Sends `request` once a slot is free. Resolves when it has been sent, not answered; the first
   * failure of any request is thrown by the next `submit` or by {@link drain}, once every request
   * in flight has been answered (the native client crashes on a reply to a closed session, and a
   * failure is followed by closing it).
   */
  async submit(request: () => Promise<unknown>): Promise<void> {
    if (this.failure) await this.drain();
    while (this.active >= this.size) await this.nextCompletion();
    if (this.failure) await this.drain();
    this.active += 1;
    request().then(
      () => this.completed(),
      (error: unknown) => { this.failure ??= { error }; this.completed(); },
    );
  }

  /** Waits for every request sent; throws the first failure. */
  async drain(): Promise<void> {
    while (this.active > 0) await this.nextCompletion();
    this.throwIfFailed();
  }

  private completed(): void {
    this.active -= 1;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private nextCompletion(): Promise<void> {
    return new Promise((resolve) => { this.wake = resolve; });
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
