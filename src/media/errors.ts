import { AppError } from '../errors';

/**
 * Maps an error thrown by mediasoup to what a client may see. mediasoup throws
 * TypeError for parameters it rejects (ortc validation), UnsupportedError for
 * what it cannot do (an RTP codec the router lacks) and InvalidStateError for a
 * closed object; anything else stays an internal error.
 */
export function fromMediasoupError(error: unknown, what: string): unknown {
	if (error instanceof AppError) {
		return error;
	}
	const name = (error as Error | undefined)?.name;
	const message = (error as Error | undefined)?.message ?? '';
	if (name === 'TypeError' || name === 'UnsupportedError') {
		return new AppError('validation_failed', `${what}: ${shorten(message)}`, { cause: error });
	}
	if (name === 'InvalidStateError') {
		return new AppError('invalid_state', `${what}: the object is closed`, { cause: error });
	}
	return error;
}

function shorten(message: string): string {
	return message.length > 200 ? `${message.slice(0, 200)}...` : message;
}
