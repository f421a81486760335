/**
 * The catalogue of error codes that leave the process (HTTP bodies, socket.io
 * acks). Codes are stable API: clients switch on them. Every code here is
 * documented in docs/ERRORS.md; a test fails when one is missing.
 */
export const ERROR_CODES = {
	validation_failed: { status: 400, message: 'the request is not valid' },
	unauthorized: { status: 401, message: 'a valid token is required' },
	forbidden: { status: 403, message: 'not allowed' },
	not_found: { status: 404, message: 'not found' },
	invalid_state: { status: 409, message: 'not possible in the current state' },
	conflict: { status: 409, message: 'that already exists' },
	room_full: { status: 409, message: 'the room is full' },
	e2ee_mismatch: { status: 409, message: 'the room and the client differ on end-to-end encryption' },
	e2ee_unavailable: { status: 409, message: 'this device has no end-to-end encryption key for the call' },
	room_elsewhere: { status: 307, message: 'the room is on another node' },
	limit_exceeded: { status: 403, message: 'a limit was reached' },
	muted_by_service: { status: 403, message: 'the service muted this track' },
	not_permitted: { status: 403, message: 'the service does not permit this' },
	unsupported_protocol: { status: 400, message: 'unsupported protocol version' },
	payload_too_large: { status: 413, message: 'the request is too large' },
	unavailable: { status: 404, message: 'unavailable' },
	premium_required: { status: 403, message: 'a premium account is required' },
	rate_limited: { status: 429, message: 'too many requests' },
	not_ready: { status: 503, message: 'the node is not ready' },
	draining: { status: 503, message: 'the node is shutting down; try another node' },
	service_unavailable: { status: 503, message: 'a service the node needs is unavailable; try again shortly' },
	internal: { status: 500, message: 'internal error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: string): value is ErrorCode {
	return Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}
