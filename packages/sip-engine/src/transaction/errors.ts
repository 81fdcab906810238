/** A response was handed to a server transaction that can no longer send it (final already sent, or ended). */
export class TransactionStateError extends Error {
  override readonly name = 'TransactionStateError';
  constructor(
    readonly transactionId: string,
    readonly state: string,
    readonly status: number,
  ) {
    super(`transaction ${transactionId} is ${state}: cannot send a ${status} response`);
  }
}

/** A status code outside 100–699 was handed to a server transaction. */
export class InvalidResponseStatusError extends Error {
  override readonly name = 'InvalidResponseStatusError';
  constructor(readonly status: number) {
    super(`invalid SIP response status ${status}`);
  }
}

/** sendRequest was asked for something that is not a transaction (ACK) or that clashes with a live one. */
export class InvalidClientRequestError extends Error {
  override readonly name = 'InvalidClientRequestError';
}

/** The layer was stopped (engine shutdown); no new client transaction can start. */
export class TransactionLayerStoppedError extends Error {
  override readonly name = 'TransactionLayerStoppedError';
  constructor() {
    super('the transaction layer is stopped');
  }
}

/** A transaction was asked to move between two states its RFC 3261 / RFC 6026 figure does not connect. */
export class IllegalTransitionError extends Error {
  override readonly name = 'IllegalTransitionError';
  constructor(
    readonly machine: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`${machine} transaction: no transition from ${from} to ${to}`);
  }
}
