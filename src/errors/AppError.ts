import { ERROR_CODES, type ErrorCode } from './codes';

/** An error whose code and message may be shown to a client. */
export class AppError extends Error {
	readonly code: ErrorCode;
	readonly status: number;
	/** Extra fields for the client, e.g. the failing field of a validation error. */
	readonly details?: Record<string, unknown>;

	constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
		super(message ?? ERROR_CODES[code].message, { cause: options?.cause });
		this.name = 'AppError';
		this.code = code;
		this.status = ERROR_CODES[code].status;
		this.details = options?.details;
	}
}

export class ValidationError extends AppError {
	constructor(message: string, details?: Record<string, unknown>) {
		super('validation_failed', message, { details });
		this.name = 'ValidationError';
	}
}

export class NotFoundError extends AppError {
	constructor(message = 'not found') {
		super('not_found', message);
		this.name = 'NotFoundError';
	}
}

export class InvalidStateError extends AppError {
	constructor(message: string) {
		super('invalid_state', message);
		this.name = 'InvalidStateError';
	}
}

/** What a client receives for any error: never a stack trace. */
export type WireError = { code: ErrorCode; message: string; details?: Record<string, unknown> };

/**
 * The one mapper from an error to what a client sees; used by the HTTP error
 * handler and the socket handlers. Anything that is not an AppError becomes
 * `internal` with a generic message: its text may hold internal details.
 */
export function toWire(err: unknown): { status: number; error: WireError } {
	if (err instanceof AppError) {
		const error: WireError = { code: err.code, message: err.message };
		if (err.details) {
			error.details = err.details;
		}
		return { status: err.status, error };
	}
	return { status: 500, error: { code: 'internal', message: ERROR_CODES.internal.message } };
}
