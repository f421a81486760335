/** The error codes the server API answers with (docs/ERRORS.md); a newer node may send others. */
export type ApiErrorCode =
	| 'validation_failed' | 'unauthorized' | 'forbidden' | 'not_found' | 'payload_too_large' | 'rate_limited'
	| 'service_unavailable' | 'internal' | (string & {});

/**
 * A request the server API refused or failed: the HTTP status and the
 * error of its body, `{ error: { code, message, details? } }`. A body that
 * is no such error (a proxy's page, say) gets the code `unexpected_response`.
 */
export class SwitchyardApiError extends Error {
	override readonly name = 'SwitchyardApiError';

	constructor(
		readonly status: number,
		readonly code: ApiErrorCode,
		message: string,
		readonly details?: Record<string, unknown>,
	) {
		super(message);
	}

	/** A response that is not what the server API answers: its status and the start of its body. */
	static unexpected(status: number, text: string): SwitchyardApiError {
		return new SwitchyardApiError(status, 'unexpected_response', `HTTP ${status}: ${text.slice(0, 200)}`);
	}

	/** The error a response of status `status` and body `text` stands for. */
	static fromResponse(status: number, text: string): SwitchyardApiError {
		let error: unknown;
		try {
			error = (JSON.parse(text) as { error?: unknown } | null)?.error;
		} catch {
			// Not JSON: handled below.
		}
		const { code, message, details } = (error ?? {}) as { code?: unknown; message?: unknown; details?: unknown };
		if (typeof code !== 'string' || typeof message !== 'string') {
			return SwitchyardApiError.unexpected(status, text);
		}
		return new SwitchyardApiError(status, code, message, typeof details === 'object' && details !== null ? details as Record<string, unknown> : undefined);
	}
}
